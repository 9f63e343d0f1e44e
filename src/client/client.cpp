// The Client facade: validates the request, picks a shard, adapts the
// caller's completion (its executor, its cancellation slot) and runs the
// exchange there. Sync and callback calls are thin layers over async_send.
#include <rebound/client.hpp>

#include "inflight/caller_code.hpp"
#include "inflight/recycling_allocator.hpp"
#include "client/shard.hpp"
#include "follow/follower.hpp"
#include "inflight/body_writer_state.hpp"
#include "net/dialer.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include <future>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace rebound {

namespace asio = boost::asio;
using inflight::Clock;
using inflight::Exchange;
using client::Shard;

struct Client::Impl {
  /// Without `caller` each shard runs an I/O thread of its own; with it,
  /// each runs on a strand of `caller` (io_threads strands).
  Impl(Options o, std::optional<asio::any_io_executor> caller) : options(std::move(o)), caller_executor(std::move(caller)) {
    if (options.io_threads == 0) options.io_threads = 1;
    if (options.max_conns_per_origin == 0) options.max_conns_per_origin = 1;
    if (options.max_attempts < 1) options.max_attempts = 1;
    scope_credentials();
    tls = std::make_shared<net::TlsContext>(options);
    Shard::ReleaseOrigin release;
    if (options.io_threads > 1)
      release = [this](const std::string& origin, std::uint64_t started) { return release_origin(origin, started); };
    if (caller_executor) life = std::make_shared<client::ShardExecutor::Life>();
    for (unsigned i = 0; i < options.io_threads; ++i) {
      std::optional<client::ShardExecutor> on;
      if (caller_executor) on.emplace(asio::make_strand(*caller_executor), life);
      shards.push_back(std::make_unique<Shard>(options, tls, connection_ids, release, std::move(on)));
    }
  }

  /// Options::credentials.origin as the pools spell an origin; refuses
  /// credentials that would go to every origin for want of a valid one.
  void scope_credentials() {
    auto& c = options.credentials;
    if (!c.source) return;
    auto url = parse_url(c.origin);
    if (!url)
      throw Exception(Error(errc::invalid_request, "Options::credentials.origin \"" + c.origin +
                                                       "\" is not an http(s) URL: " + url.error().message()));
    c.origin = url->origin();
  }

  /// The shard that owns `origin`: each origin lives on one shard, so its
  /// connection limit, queue, dial coalescing and retry budget are the
  /// Client's, not multiplied by the thread count. New origins are spread
  /// round-robin (a hash of the origin would need no map, but two busy
  /// origins would share one thread half the time with two threads). The
  /// placement lasts while the shard has a pool for the origin or a
  /// request on its way there: release_origin() ends it with the pool, so
  /// a client meeting origins without end (a crawler) keeps no entry per
  /// origin it ever met.
  Shard& shard_for(const Url& url) {
    if (shards.size() == 1) return *shards.front();
    std::lock_guard lock(origins_mutex);
    auto [it, added] = origin_shard.try_emplace(url.origin());
    if (added) it->second.shard = next_shard++ % shards.size();
    ++it->second.placed;
    return *shards[it->second.shard];
  }
  /// The shard dropping `origin`'s empty pool asks (on its thread): the
  /// placement goes only when every request placed there has started (a
  /// request still on its way would meet a new placement elsewhere, and
  /// the origin would live on two shards at once).
  bool release_origin(const std::string& origin, std::uint64_t started) {
    std::lock_guard lock(origins_mutex);
    auto it = origin_shard.find(origin);
    if (it == origin_shard.end()) return true;
    if (it->second.placed != started) return false;
    origin_shard.erase(it);
    return true;
  }
  std::size_t origins_placed() {
    std::lock_guard lock(origins_mutex);
    return origin_shard.size();
  }
  /// Validates `request` and runs it; `completion` is invoked exactly once.
  /// `slot` (may be unconnected) cancels it.
  void launch(Request&& request, inflight::Completion&& completion, asio::cancellation_slot slot);
  /// One hop of it on the engine (see follow::LaunchHop): until `deadline`,
  /// `observer` (may be empty) on its exchange; a canceller when
  /// `cancellable` (or the request carries a Cancellation) and the slot is
  /// connected.
  follow::Hop launch_hop(Request&& request, inflight::Completion&& completion, asio::cancellation_slot slot,
                         Clock::time_point deadline, inflight::Exchange::HeadObserver observer, bool cancellable);

  bool on_own_thread() const {
    for (const auto& s : shards)
      if (s->in_this_thread()) return true;
    return false;
  }
  /// True on a thread that runs the caller's executor right now (inside
  /// one of its handlers), where a blocking send could wait for a handler
  /// only this thread would run. Knowable for an io_context's and a
  /// thread_pool's executor (and strands of them, through on_own_thread);
  /// another executor type is not recognised.
  bool running_callers_executor() const {
    if (!caller_executor) return false;
    if (auto io = caller_executor->target<asio::io_context::executor_type>()) return io->running_in_this_thread();
    if (auto pool = caller_executor->target<asio::thread_pool::executor_type>()) return pool->running_in_this_thread();
    if (auto strand = caller_executor->target<asio::strand<asio::io_context::executor_type>>())
      return strand->running_in_this_thread();
    return false;
  }

  Options options;
  std::shared_ptr<net::TlsContext> tls;
  std::atomic<std::uint64_t> connection_ids{0};
  struct Placement {
    std::size_t shard = 0;
    std::uint64_t placed = 0;  // requests sent there (compared with the shard's count of those it started)
  };
  std::mutex origins_mutex;
  std::unordered_map<std::string, Placement> origin_shard;  // guarded by origins_mutex
  std::size_t next_shard = 0;                               // guarded by origins_mutex
  /// The caller's executor mode: the executor given, and the shards' work
  /// count (ShardExecutor). The Client holds `life` until ~Client puts this
  /// Impl inside it; the last handler that holds it then frees the Impl.
  std::optional<asio::any_io_executor> caller_executor;
  std::shared_ptr<client::ShardExecutor::Life> life;
  // Last: destroyed first, so no shard thread can ask release_origin() about a freed map.
  std::vector<std::unique_ptr<Shard>> shards;
};

namespace {

// Parsing a URL costs allocations and a few hundred nanoseconds; callers that
// poll or load-test send the same URL again and again, so each thread keeps
// the last one it parsed.
Result<std::shared_ptr<const Url>> parse_url_cached(const std::string& text) {
  thread_local std::string last_text;
  thread_local std::shared_ptr<const Url> last_url;
  if (last_url && text == last_text) return last_url;
  auto url = parse_url(text);
  if (!url) return url.error();
  last_text = text;
  last_url = std::make_shared<const Url>(std::move(*url));
  return last_url;
}

// Checks what can be checked before any I/O: the URL and the method token.
Result<std::shared_ptr<const Url>> validate(const Request& r) {
  if (r.method().empty() ||
      r.method().find_first_of(" \t\r\n()<>@,;:\\\"/[]?={}") != std::string::npos)
    return Error(errc::invalid_request, "method \"" + r.method() + "\" is not a valid HTTP token");
  auto url = parse_url_cached(r.url());
  if (!url) return url.error();
  for (const auto& [name, value] : r.headers()) {
    if (name.empty() || name.find_first_of(" \t\r\n:") != std::string::npos)
      return Error(errc::invalid_request, "header name \"" + name + "\" is not a valid token");
    if (value.find_first_of("\r\n") != std::string::npos)
      return Error(errc::invalid_request, "header \"" + name + "\" has a line break in its value");
  }
  return url;
}

}  // namespace

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options), std::nullopt)) {}

Client::Client(asio::any_io_executor executor, Options options)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(executor))) {}

asio::any_io_executor Client::get_executor() const {
  return impl_->caller_executor ? *impl_->caller_executor : impl_->shards.front()->executor();
}

Client::~Client() {
  shutdown();
  if (impl_->caller_executor) {
    // Nothing to wait for, and waiting could deadlock: the shutdown's
    // handlers run on the caller's executor, maybe on this very thread
    // after we return. The Impl goes into its own work count, and the last
    // of those handlers frees it (at once when none is pending).
    auto life = std::move(impl_->life);
    life->owner = std::shared_ptr<Impl>(std::move(impl_));
    return;
  }
  if (impl_->on_own_thread()) {
    // Destroyed from one of its own callbacks: this thread cannot join
    // itself. A helper thread waits for every I/O thread to finish its
    // shutdown (this one returns from the callback first), then frees them.
    std::thread([impl = std::move(impl_)]() mutable {
      for (auto& s : impl->shards) s->join();
      impl.reset();
    }).detach();
  }
  // Otherwise ~Impl's shards join their threads.
}

void Client::shutdown() {
  for (auto& s : impl_->shards) s->stop();
}

void Client::start(Request request, asio::any_completion_handler<void(Result<Response>)> handler) {
  // Deliver on the caller's executor (asio's system executor when it has
  // none), always posted so a completion never runs inside rebound's own
  // call stack, keeping that executor's work alive until then, and clear the
  // cancellation slot there, where the caller may emit on it.
  auto slot = asio::get_associated_cancellation_slot(handler);
  // On the caller's executor a handler with none of its own runs there, as
  // with any Asio I/O object (no hop to another thread).
  auto associated = impl_->caller_executor ? asio::get_associated_executor(handler, *impl_->caller_executor)
                                           : asio::get_associated_executor(handler, asio::system_executor());
  // A handler with an executor of its own throws out of that executor's
  // run(), as any Asio operation's would; one without runs on Asio's system
  // executor, where nobody could catch it: counted there (client.hpp).
  inflight::ThrowCount count_throws;
  if (associated.template target<asio::system_executor>())
    count_throws = impl_->shards.front()->completions().throw_count();
  auto caller_ex = asio::prefer(std::move(associated), asio::execution::outstanding_work.tracked);
  inflight::Completion completion(std::in_place_index<1>,
      [handler = std::move(handler), caller_ex = std::move(caller_ex), slot, count_throws](Result<Response> r) mutable {
        caller_ex.execute([handler = std::move(handler), r = std::move(r), slot, count_throws]() mutable {
          if (slot.is_connected()) slot.clear();
          if (count_throws) inflight::run_counting_throws([&] { std::move(handler)(std::move(r)); }, count_throws);
          else std::move(handler)(std::move(r));
        });
      });
  impl_->launch(std::move(request), std::move(completion), slot);
}

void Client::send_async(Request request, std::function<void(Result<Response>)> done) {
  // The callback has no executor of its own: it runs on the shard's thread,
  // kept as the std::function it is.
  impl_->launch(std::move(request), inflight::Completion(std::in_place_index<0>, std::move(done)), {});
}

void Client::Impl::launch(Request&& request, inflight::Completion&& completion, asio::cancellation_slot slot) {
  const auto deadline = Clock::now() + request.timeout().value_or(options.request_timeout);
  if (!follow::needs_follower(request, options)) {
    launch_hop(std::move(request), std::move(completion), slot, deadline, {}, false);
    return;
  }
  // Redirects or decoding: a layer above the engine runs the hops.
  follow::start(std::move(request), std::move(completion), slot, deadline, options,
                [this](Request&& r, inflight::Completion&& done, Clock::time_point until,
                       inflight::Exchange::HeadObserver observer, bool cancellable) {
                  return launch_hop(std::move(r), std::move(done), {}, until, std::move(observer), cancellable);
                });
}

follow::Hop Client::Impl::launch_hop(Request&& request, inflight::Completion&& completion, asio::cancellation_slot slot,
                                     Clock::time_point deadline, inflight::Exchange::HeadObserver observer,
                                     bool cancellable) {
  const bool wait_for_ready = request.wait_for_ready().value_or(options.wait_for_ready);
  // A writer feeds one request: a second would interleave its bytes.
  const auto& writer = request.body_writer();
  const bool writer_taken = writer && !writer->state()->claim();
  auto url = writer_taken ? Result<std::shared_ptr<const Url>>(Error(
                                errc::invalid_request, "the request's BodyWriter already carries another request"))
                          : validate(request);
  if (!url) {
    if (writer && !writer_taken) writer->state()->end();  // its writes would wait for nothing
    shards.front()->deliver(std::move(completion), url.error());
    return {};
  }
  Shard& shard = shard_for(**url);
  auto cancellation = request.cancellation();
  // One block per request, reused by this thread (recycling_allocator.hpp).
  auto ex = std::allocate_shared<Exchange>(inflight::RecyclingAllocator<Exchange>(), shard.executor(),
                                           shard.completions(), std::move(request), std::move(*url),
                                           deadline, wait_for_ready, std::move(completion));
  follow::Hop hop;
  if (observer) {
    ex->observe_head(std::move(observer));
    if (options.on_event) hop.emit = [&shard](const Event& e) { shard.emit(e); };
  }
  if (slot.is_connected() || cancellation || cancellable) {
    // Cancels arrive from a handler of their own on the shard, never inside
    // an engine operation. The Cancellation's registration ends when the
    // exchange completes; the slot is cleared only when the caller's
    // completion runs, which may be after ~Client, so what it holds must
    // stay harmless then (Shard::canceller).
    auto cancel = shard.canceller(ex);
    if (slot.is_connected()) slot.assign([cancel](asio::cancellation_type) { cancel(); });
    if (cancellable) hop.cancel = cancel;
    if (cancellation) ex->hold(cancellation->on_cancel(std::move(cancel)));
  }
  if (!shard.submit(ex)) {
    ex->complete_off_shard(Error(errc::client_shut_down, ex->describe() + ": the client was shut down"));
  }
  return hop;
}

Result<Response> Client::send(Request request) {
  if (impl_->on_own_thread())
    return Error(errc::invalid_request,
                 "blocking send() called on the client's own I/O thread (would deadlock); use async_send");
  if (impl_->running_callers_executor())
    return Error(errc::invalid_request,
                 "blocking send() called from a thread running the client's executor (would deadlock waiting "
                 "for a handler only that executor runs); use async_send");
  std::promise<Result<Response>> promise;
  auto future = promise.get_future();
  send_async(std::move(request), [&promise](Result<Response> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Counters Client::counters() const {
  Counters sum;
  for (const auto& s : impl_->shards) s->add_counters(sum);
  return sum;
}

std::string Client::dump_pools() const {
  std::string out;
  for (const auto& s : impl_->shards) out += s->dump();
  if (impl_->shards.size() > 1)
    out += "origins placed on I/O threads: " + std::to_string(impl_->origins_placed()) + "\n";
  return out;
}

}  // namespace rebound
