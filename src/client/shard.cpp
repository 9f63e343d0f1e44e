// Shard: the per-thread (or per-strand) engine.
#include "client/shard.hpp"

#include "client/network_connector.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>

#include <future>
#include <sstream>

namespace rebound::client {

Shard::Shard(const Options& options, std::shared_ptr<net::TlsContext> tls,
             std::atomic<std::uint64_t>& connection_ids, ReleaseOrigin release_origin,
             std::optional<ShardExecutor> on)
    : options_(options), tls_(std::move(tls)), connection_ids_(connection_ids),
      own_io_(on ? nullptr : std::make_unique<asio::io_context>(1)), on_(std::move(on)),
      executor_(on_ ? asio::any_io_executor(*on_) : asio::any_io_executor(own_io_->get_executor())),
      reaper_(executor_), deadlines_(executor_, [this](Exchange& e) { abort(e, errc::deadline_exceeded); }),
      connector_(make_network_connector(executor_, options_, tls_)), clock_(pool::make_steady_clock(executor_)),
      release_origin_(std::move(release_origin)) {
  // The reaper's timer is always pending, which keeps run() going (or, on
  // the caller's executor, the shard's work outstanding) until stop()
  // cancels it and the pools' last handlers have run.
  reap_later();
  if (own_io_) thread_ = std::thread([this] { own_io_->run(); });
}

Shard::~Shard() {
  stop();
  join();
}

void Shard::reap_later() {
  reaper_.expires_after(std::chrono::seconds(1));
  reaper_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_flag_) return;
    const auto now = Clock::now();
    // Rotated certificate files are looked for on the same tick (whichever
    // shard comes first when a check is due).
    if (auto note = tls_->maybe_reload(now); note && options_.on_event)
      emit(Event{EventKind::tls_reloaded, now, {}, 0, Protocol::http1, note->error, std::move(note->detail)});
    // New material (whichever shard loaded it): open connections made with
    // the old one retire, so none keeps presenting a rotated certificate.
    if (const auto generation = tls_->generation(); generation != tls_generation_seen_) {
      tls_generation_seen_ = generation;
      for (auto& [_, placed] : pools_) placed.pool->retire_connections_older_than(generation);
    }
    for (auto it = pools_.begin(); it != pools_.end();) {
      // An empty pool is dropped so an origin used once costs nothing later,
      // in the Client's placement map too.
      auto& [origin, placed] = *it;
      if (placed.pool->reap(now) && (!release_origin_ || release_origin_(origin, placed.started)))
        it = pools_.erase(it);
      else
        ++it;
    }
    reap_later();
  });
}

Shard::PlacedPool& Shard::origin_pool(const Url& url) {
  const std::string& key = url.origin();
  auto it = pools_.find(key);
  if (it != pools_.end()) return it->second;
  pool::PoolServices services;
  services.executor = executor_;
  services.options = &options_;
  services.connector = connector_.get();
  services.clock = clock_.get();
  services.next_connection_id = [this] { return connection_ids_.fetch_add(1) + 1; };
  if (options_.on_event) services.emit = [this](const Event& e) { emit(e); };
  services.counters = &counters_;
  if (options_.credentials.source && options_.credentials.origin == key) {  // scoped by the Client
    services.credentials = options_.credentials.source;
    services.post_from_any_thread = [gate = foreign_gate_, ex = executor_](std::function<void()> f) {
      std::lock_guard lock(gate->mutex);
      if (gate->open) asio::post(ex, std::move(f));
    };
  }
  auto pool = std::make_shared<pool::OriginPool>(std::move(services), url);
  return pools_.emplace(key, PlacedPool{std::move(pool)}).first->second;
}

void Shard::emit(const Event& e) {
  // Never inline: the pool is mid-operation, and a hook may send or cancel.
  asio::post(executor_, [this, e] {
    completions_.run_user_code([&] {
      try {
        options_.on_event(e);
      } catch (...) {
        // A throwing hook must not break the engine.
      }
    });
  });
}

bool Shard::submit(std::shared_ptr<Exchange>& ex) {
  const bool inline_start = in_this_thread() && completions_.running_user_code();
  {
    std::lock_guard lock(accepting_mutex_);
    if (stopped_) return false;
    if (!inline_start) {
      asio::post(executor_, [this, ex = std::move(ex)]() mutable { start(std::move(ex)); });
      return true;
    }
  }
  // A safe point (user code, no engine operation on this stack), and on
  // this thread a shutdown can only run after us. Outside the lock: start
  // may complete the exchange, which ends its cancellation registration
  // under that handle's lock, and cancel() takes the locks the other way.
  start(std::move(ex));
  return true;
}

std::function<void()> Shard::canceller(std::weak_ptr<Exchange> ex) {
  // Holds the gate, not the Shard: `this` is reached only through an open
  // gate, which stop() closes (under the gate's lock) before the Shard can go.
  return [gate = foreign_gate_, this, ex = std::move(ex)] {
    std::lock_guard lock(gate->mutex);
    if (!gate->open) return;  // the shutdown fails it
    asio::post(executor_, [this, ex] {
      if (auto e = ex.lock()) abort(*e, errc::cancelled);
    });
  };
}

void Shard::deliver(Completion completion, Result<Response> result) {
  std::lock_guard lock(accepting_mutex_);
  auto run = [completion = std::move(completion), result = std::move(result),
              threw = completions_.throw_count()]() mutable { run_completion(completion, std::move(result), threw); };
  if (stopped_) asio::post(asio::system_executor(), std::move(run));
  else asio::post(executor_, std::move(run));
}

void Shard::start(std::shared_ptr<Exchange> ex) {
  ++counters_.requests_started;
  if (stopped_flag_) {  // handed over just before stop(): its shutdown is queued behind us
    if (ex->done()) return;
    ++counters_.requests_failed;
    ex->complete(Error(errc::client_shut_down, ex->describe()));
    return;
  }
  // Counted even when it was cancelled on the way: the Client counted it
  // when it placed the origin here.
  PlacedPool& placed = origin_pool(ex->url());
  ++placed.started;
  if (ex->done()) return;  // cancelled before it got here
  deadlines_.add(*ex);
  placed.pool->submit(std::move(ex));
}

void Shard::abort(Exchange& ex, errc code) {
  if (ex.done()) return;
  AttemptCarrier* carrier = ex.carrier();
  const progress reached = ex.response_started() ? progress::response_started
                           : carrier               ? progress::sent
                                                   : progress::not_sent;
  // Between attempts (after a 401, a 429's Retry-After, a failed dial) the
  // last attempt's progress is history: say where it is instead.
  std::string where = ex.describe();
  if (!carrier && ex.attempts() > 0) where += " (waiting to retry after attempt " + std::to_string(ex.attempts()) + ")";
  ++counters_.requests_failed;
  auto keep = ex.shared_from_this();
  ex.complete(Error(code, std::move(where), reached, ex.attempts()));
  if (carrier)
    carrier->abandon(ex, code == errc::deadline_exceeded ? AttemptCarrier::Abandon::timed_out
                                                          : AttemptCarrier::Abandon::cancelled);
}

void Shard::stop() {
  {
    std::lock_guard lock(accepting_mutex_);
    if (stopped_) return;
    stopped_ = true;
    stopped_flag_ = true;
    {
      std::lock_guard gate(foreign_gate_->mutex);
      foreign_gate_->open = false;  // what they would post is failed by the shutdown below
    }
    // Queued behind every request handed over before: they are started
    // (and failed) first. The io_context runs until the last completion,
    // close and event handler has run, then the thread ends (on the
    // caller's executor: then the last reference to the shard's work goes).
    asio::post(executor_, [this] {
      reaper_.cancel();
      deadlines_.stop();
      for (auto& [_, placed] : pools_) placed.pool->shutdown();
      pools_.clear();
    });
  }
  if (!in_this_thread()) join();
}

void Shard::join() {
  if (thread_.joinable() && !in_this_thread()) thread_.join();
}

void Shard::add_counters(Counters& sum) const {
  counters_.add_to(sum);
  sum.completions_dropped += completions_.dropped();
  sum.callbacks_threw += completions_.throw_count()->load(std::memory_order_relaxed);
}

std::string Shard::dump() {
  auto p = std::make_shared<std::promise<std::string>>();
  auto answer = p->get_future();
  {
    std::lock_guard lock(accepting_mutex_);
    if (stopped_) return "(stopped)\n";
    asio::dispatch(executor_, [this, p] {  // inline when called from a callback on this thread
      std::ostringstream os;
      for (auto& [_, placed] : pools_) os << placed.pool->dump() << "\n";
      p->set_value(os.str());
    });
  }
  // Bounded: this thread may be another shard's, called from a callback,
  // while ours waits for that one in the same way - neither would answer.
  if (answer.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
    return "(an I/O thread busy: its pools not dumped within 2 s)\n";
  return answer.get();
}

}  // namespace rebound::client
