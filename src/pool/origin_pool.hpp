// The connections of one origin (scheme://host:port) on one shard: checkout,
// the wait queue, dial coalescing, eviction of dead connections, idle
// reaping and retries. This is the single owner of dialing and of the retry
// decision's execution (ORIGIN.md: "one owner for dialing").
//
// Invariants (tests pin each):
//  - a draining or closed connection is never handed a request;
//  - whoever finds a connection unusable removes it in the same step
//    (on_closed erases it before anything else runs);
//  - at most one dial in flight while the origin's protocol may be HTTP/2;
//  - every exchange completes exactly once (Exchange::complete guards it).
//
// Runs on its shard's I/O thread only.
#pragma once

#include "client/counters.hpp"
#include "client/exchange.hpp"
#include "net/dialer.hpp"
#include "pool/connection.hpp"
#include "retry/retry.hpp"

#include <rebound/options.hpp>

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <vector>

namespace rebound::pool {

namespace asio = boost::asio;

/// What an origin pool needs from its shard.
struct ShardServices {
  asio::any_io_executor executor;
  const Options* options = nullptr;
  std::shared_ptr<net::TlsContext> tls;
  retry::Budget* budget = nullptr;
  std::function<std::uint64_t()> next_connection_id;
  std::function<void(const Event&)> emit;  ///< may be empty
  client::AtomicCounters* counters = nullptr;  ///< shard-local, summed by the Client
};

/// Counts of connections per state, for tests and `dump`.
struct PoolCounts {
  std::size_t ready = 0, busy = 0, draining = 0, dialing = 0, waiting = 0;
  friend bool operator==(const PoolCounts&, const PoolCounts&) = default;
};

class OriginPool final : public ConnectionOwner, public std::enable_shared_from_this<OriginPool> {
 public:
  OriginPool(ShardServices services, Url origin);
  ~OriginPool();

  /// Finds a connection for `ex` now, or queues it (dialing if needed).
  void submit(std::shared_ptr<Exchange> ex);
  /// Closes idle connections older than idle_timeout; true when the pool is
  /// empty and can be dropped.
  bool reap(Clock::time_point now);
  /// Fails everything with client_shut_down and closes every connection.
  void shutdown();

  PoolCounts counts() const;
  std::string dump() const;

  // ConnectionOwner
  void on_ready(Connection& c) override;
  void on_closed(Connection& c, const Error& why) override;
  void on_attempt_done(const std::shared_ptr<Exchange>& ex, Result<Response> result) override;
  void on_connection_event(Connection& c, EventKind kind, std::string detail) override;

 private:
  /// Wraps a handler that uses `this` so it does nothing once the pool is
  /// gone (the shard drops empty pools; handlers may still be queued).
  template <class F>
  auto while_alive(F f) {
    return [weak = weak_from_this(), f = std::move(f)](auto&&... args) mutable {
      if (auto self = weak.lock()) f(std::forward<decltype(args)>(args)...);
    };
  }
  void pump();
  void dispatch(Connection& c, std::shared_ptr<Exchange> ex);
  void maybe_dial();
  bool dial_needed() const;
  void on_dialed(Error err, net::DialResult result);
  void fail_waiting_after_dial_error(const Error& err);
  void schedule_redial();
  void retry_or_complete(const std::shared_ptr<Exchange>& ex, Error err);
  void finish(const std::shared_ptr<Exchange>& ex, Result<Response> result);
  bool observed() const noexcept { return static_cast<bool>(services_.emit); }
  void emit(EventKind kind, std::uint64_t conn, Protocol p, error_code ec, std::string detail);

  ShardServices services_;
  const Options& options_;
  Url origin_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::deque<std::shared_ptr<Exchange>> waiting_;
  std::shared_ptr<net::Dial> dial_;  // at most one dial in flight at a time
  Protocol protocol_ = Protocol::http1;
  int consecutive_dial_failures_ = 0;
  asio::steady_timer redial_timer_;
  bool redial_scheduled_ = false;
  std::minstd_rand random_;
  bool shut_down_ = false;
};

}  // namespace rebound::pool
