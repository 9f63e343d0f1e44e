// Shard: the per-thread engine.
#include "client/shard.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <sstream>

namespace rebound::client {

Shard::Shard(const Options& options, std::shared_ptr<net::TlsContext> tls,
             std::atomic<std::uint64_t>& connection_ids)
    : options_(options), tls_(std::move(tls)), connection_ids_(connection_ids), reaper_(io_),
      deadlines_(io_.get_executor(), [this](Exchange& e) { abort(e, errc::deadline_exceeded); }),
      budget_(options.retry_budget_ratio, options.retry_budget_min_per_second) {
  // The reaper's timer is always pending, which keeps run() going until
  // stop() cancels it and the pools' last handlers have run.
  reap_later();
  thread_ = std::thread([this] { io_.run(); });
}

Shard::~Shard() { stop(); }

void Shard::reap_later() {
  reaper_.expires_after(std::chrono::seconds(1));
  reaper_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    const auto now = Clock::now();
    for (auto it = pools_.begin(); it != pools_.end();) {
      // An empty pool is dropped so an origin used once costs nothing later.
      if (it->second->reap(now)) it = pools_.erase(it);
      else ++it;
    }
    reap_later();
  });
}

pool::OriginPool& Shard::origin_pool(const Url& url) {
  const std::string& key = url.origin();
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;
  pool::ShardServices services;
  services.executor = io_.get_executor();
  services.options = &options_;
  services.tls = tls_;
  services.budget = &budget_;
  services.next_connection_id = [this] { return connection_ids_.fetch_add(1) + 1; };
  if (options_.on_event) services.emit = [this](const Event& e) { emit(e); };
  services.counters = &counters_;
  auto pool = std::make_shared<pool::OriginPool>(std::move(services), url);
  return *pools_.emplace(key, std::move(pool)).first->second;
}

void Shard::emit(const Event& e) {
  try {
    options_.on_event(e);
  } catch (...) {
    // A throwing hook must not break the engine.
  }
}

void Shard::start(std::shared_ptr<Exchange> ex) {
  ++counters_.requests_started;
  budget_.record_request(Clock::now());
  if (stopped_) {
    ex->complete(Error(errc::client_shut_down, ex->describe()));
    return;
  }
  deadlines_.add(*ex);
  origin_pool(ex->url()).submit(std::move(ex));
}

void Shard::abort(Exchange& ex, errc code) {
  if (ex.done()) return;
  AttemptCarrier* carrier = ex.carrier();
  const progress reached = carrier ? progress::sent : progress::not_sent;
  ++counters_.requests_failed;
  auto keep = ex.shared_from_this();
  ex.complete(Error(code, ex.describe(), reached, ex.attempts()));
  if (carrier) carrier->abandon(ex);
}

void Shard::stop() {
  if (stopped_.exchange(true)) return;
  if (thread_.joinable()) {
    if (in_this_thread()) {
      // Destroyed from one of our own callbacks: cannot join ourselves.
      thread_.detach();
      return;
    }
    asio::post(io_, [this] {
      reaper_.cancel();
      deadlines_.stop();
      for (auto& [_, p] : pools_) p->shutdown();
      pools_.clear();
    });
    thread_.join();
  }
}

std::string Shard::dump() {
  if (stopped_) return "(stopped)";
  std::promise<std::string> p;
  asio::dispatch(io_, [&] {
    std::ostringstream os;
    for (auto& [_, pool] : pools_) os << pool->dump() << "\n";
    p.set_value(os.str());
  });
  return p.get_future().get();
}

}  // namespace rebound::client
