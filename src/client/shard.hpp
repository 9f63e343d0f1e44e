// A shard: one I/O thread with its own io_context, origin pools, retry
// budget and counters. Nothing in a shard is shared with another, so the hot
// path takes no locks; the Client spreads requests across shards.
#pragma once

#include "client/completion_queue.hpp"
#include "client/counters.hpp"
#include "client/deadline_queue.hpp"
#include "client/exchange.hpp"
#include "pool/origin_pool.hpp"
#include "retry/retry.hpp"

#include <rebound/options.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace rebound::client {

class Shard {
 public:
  Shard(const Options& options, std::shared_ptr<net::TlsContext> tls,
        std::atomic<std::uint64_t>& connection_ids);
  ~Shard();  ///< stop() if not already

  asio::any_io_executor executor() { return io_.get_executor(); }
  /// Where this shard's exchanges deliver their results (its thread only).
  CompletionQueue& completions() { return completions_; }
  bool in_this_thread() const { return thread_.get_id() == std::this_thread::get_id(); }

  /// Runs `ex` (call on this shard's thread).
  void start(std::shared_ptr<Exchange> ex);
  /// Ends `ex` with `code` (cancel / deadline); call on this shard's thread.
  void abort(Exchange& ex, errc code);

  /// Fails everything, closes every connection, joins the thread. Idempotent.
  void stop();
  void add_counters(Counters& sum) const { counters_.add_to(sum); }
  std::string dump();

 private:
  void reap_later();
  pool::OriginPool& origin_pool(const Url& url);
  void emit(const Event& e);

  const Options& options_;
  std::shared_ptr<net::TlsContext> tls_;
  std::atomic<std::uint64_t>& connection_ids_;
  asio::io_context io_{1};
  asio::steady_timer reaper_;
  CompletionQueue completions_{io_.get_executor()};
  DeadlineQueue deadlines_;
  retry::Budget budget_;
  std::map<std::string, std::shared_ptr<pool::OriginPool>> pools_;
  AtomicCounters counters_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace rebound::client
