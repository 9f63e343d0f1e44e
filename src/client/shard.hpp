// A shard: one I/O thread with its own io_context - or a strand of the
// caller's executor (ShardExecutor) - the origin pools it owns, and
// counters. An origin belongs to exactly one shard (the Client
// assigns it), so per-origin limits hold for the whole Client and the hot
// path takes no locks beyond one uncontended mutex at hand-over.
//
// Lifecycle: accepting -> stopped. Hand-over (submit/deliver) and stop()
// share a mutex, so a request handed over before stop() is failed by the
// shutdown and one handed over after it is refused - never lost in a queue
// nobody runs.
#pragma once

#include "client/shard_executor.hpp"
#include "inflight/completion_queue.hpp"
#include "inflight/counters.hpp"
#include "inflight/deadline_queue.hpp"
#include "inflight/exchange.hpp"
#include "pool/connector.hpp"
#include "pool/origin_pool.hpp"
#include "pool/pool_clock.hpp"

#include <rebound/options.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace rebound::client {

// The in-flight request state lives below the pool (src/inflight); the
// client's own code names it as before.
using inflight::AtomicCounters;
using inflight::AttemptCarrier;
using inflight::Clock;
using inflight::Completion;
using inflight::CompletionQueue;
using inflight::DeadlineQueue;
using inflight::Exchange;
using inflight::post_completion;
using inflight::run_completion;
namespace asio = boost::asio;

class Shard {
 public:
  /// Asked (on the shard's thread) before an origin's empty pool is
  /// dropped, with the number of requests for it this shard has started:
  /// the Client forgets where it placed the origin and says true, or says
  /// false while a request it placed here is still on its way (the pool is
  /// kept, and asked about again on the next tick).
  using ReleaseOrigin = std::function<bool(const std::string& origin, std::uint64_t started)>;

  /// `release_origin` may be empty (a Client with one shard places nothing).
  /// Without `on` the shard starts an I/O thread with an io_context of its
  /// own; with it, it runs there and starts no thread: whoever owns it must
  /// then keep it alive until the last handler given to `on` has run (see
  /// ShardExecutor), not join anything.
  Shard(const Options& options, std::shared_ptr<net::TlsContext> tls,
        std::atomic<std::uint64_t>& connection_ids, ReleaseOrigin release_origin = {},
        std::optional<ShardExecutor> on = std::nullopt);
  /// stop()s and joins (own thread). Must not run on the shard's own thread
  /// (its own io_context's); on the caller's executor, only after the last
  /// handler ran.
  ~Shard();

  asio::any_io_executor executor() { return executor_; }
  /// Where this shard's exchanges deliver their results (its thread only).
  CompletionQueue& completions() { return completions_; }
  /// On this shard's I/O thread, or inside its strand of the caller's executor.
  bool in_this_thread() const {
    return on_ ? on_->running_in_this_thread() : thread_.get_id() == std::this_thread::get_id();
  }

  /// Hands `ex` over from any thread. It starts at once when called from
  /// this shard's user code (a completion callback or event hook: no engine
  /// operation is on the stack), else from a handler of its own. False
  /// when the shard has stopped (`ex` untouched).
  bool submit(std::shared_ptr<Exchange>& ex);
  /// What cancels `ex`: callable from any thread, at any time - after
  /// this Shard is destroyed too, for the caller's cancellation slot or
  /// Cancellation may outlive the Client. While the shard runs it aborts
  /// `ex` with errc::cancelled from a handler of its own (a cancel never
  /// re-enters the engine mid-operation); once stop() began it does
  /// nothing: the shutdown completes `ex`.
  std::function<void()> canceller(std::weak_ptr<Exchange> ex);
  /// Runs `completion(result)` off every engine stack: on this shard's
  /// thread, or on Asio's system executor once the shard has stopped.
  void deliver(Completion completion, Result<Response> result);

  /// Stops accepting, then (on the shard's thread) fails every request
  /// with client_shut_down and closes every connection. Callable from any
  /// thread, the shard's own callbacks included; it waits for the thread
  /// to finish unless called from it. Idempotent.
  void stop();
  /// Waits for the thread to finish (not from the shard's own thread).
  void join();
  void add_counters(Counters& sum) const;
  std::string dump();
  /// Delivers `e` to Options::on_event from a handler of its own (this
  /// shard's thread only; the redirect layer's events go through here).
  void emit(const Event& e);

 private:
  struct PlacedPool {
    std::shared_ptr<pool::OriginPool> pool;
    std::uint64_t started = 0;  // requests for this origin started here (see ReleaseOrigin)
  };
  void start(std::shared_ptr<Exchange> ex);
  void abort(Exchange& ex, errc code);
  void reap_later();
  PlacedPool& origin_pool(const Url& url);

  const Options& options_;
  std::shared_ptr<net::TlsContext> tls_;
  std::uint64_t tls_generation_seen_ = 1;  // the reaper's; see reap_later()
  std::atomic<std::uint64_t>& connection_ids_;
  std::unique_ptr<asio::io_context> own_io_;  // own-thread mode only
  std::optional<ShardExecutor> on_;           // the caller's executor mode only
  asio::any_io_executor executor_;            // one of the two: where everything runs
  asio::steady_timer reaper_;
  CompletionQueue completions_{executor_};
  DeadlineQueue deadlines_;
  std::unique_ptr<pool::Connector> connector_;
  std::unique_ptr<pool::PoolClock> clock_;
  std::map<std::string, PlacedPool> pools_;
  ReleaseOrigin release_origin_;
  AtomicCounters counters_;
  std::thread thread_;
  std::mutex accepting_mutex_;
  bool stopped_ = false;                    // guarded by accepting_mutex_
  /// Lets threads that are not ours (a credential source's, a caller
  /// cancelling) post work here only while the shard has not stopped: they
  /// may come after the Client is gone, and must then find a closed gate,
  /// not a freed io_context.
  struct ForeignGate {
    std::mutex mutex;
    bool open = true;
  };
  std::shared_ptr<ForeignGate> foreign_gate_ = std::make_shared<ForeignGate>();
  std::atomic<bool> stopped_flag_{false};  // the same, readable without the lock
};

}  // namespace rebound::client
