// The connections of one origin (scheme://host:port) in one Client:
// checkout, the wait queue, dialing, eviction of dead connections, idle
// reaping, the origin's retry budget and the execution of retry decisions.
// This is the single owner of dialing and of acting on the retry decision
// (ORIGIN.md: "one owner for dialing").
//
// Invariants (tests/pool/origin_pool_test.cpp pins each):
//  - a draining or closed connection is never handed a request;
//  - whoever finds a connection unusable removes it in the same step
//    (on_closed erases it before anything else runs);
//  - while the origin may speak HTTP/2, one dial is in flight (it
//    coalesces); a known-HTTP/1.1 origin dials one connection per waiting
//    request, up to max_conns_per_origin, in parallel; in both, a dial
//    pending longer than dial_stagger gets a fresh one beside it, at most
//    one per stagger and max_staggered_dials pending (the oldest makes way);
//  - a dial failure fails only requests with no other way forward, and only
//    when the retry decision (attempts, budget) says so; the others wait
//    for a redial after backoff - 25-50 ms, uncharged, for the first 2 s of
//    refused dials (a restarting server), then exponential;
//  - a request refused twice rests in the queue for a jittered backoff
//    (growing to about a second) instead of being refused through all its
//    attempts in a millisecond; refusals are bounded by the deadline and
//    the budget, not max_attempts;
//  - every live request is held by exactly one place: the wait queue
//    (resting or backing off included), the credential step, or a
//    connection; reap() keeps a pool that holds any, shutdown() completes
//    them all (DESIGN.md invariant 6; tests/pool/pool_model.hpp checks it
//    after every step of random runs);
//  - the slots counted against max_conns_per_origin are dials in flight and
//    connections that can take a request now or once a running one ends:
//    never a draining or suspect one (invariant 7);
//  - a connection is reaped only after idle_timeout without a request, by
//    the pool's own record as well as its protocol's;
//  - a 429 or 503 with Retry-After rests for the server's delay before its
//    next attempt, when the request may be repeated and the deadline allows;
//  - every exchange completes exactly once (Exchange::complete guards it).
//
// The network and time come in through Connector and PoolClock, so the
// state machine is unit-tested with fakes. Runs on its shard's I/O thread.
// Files: origin_pool.cpp (checkout, retries, reaping, shutdown),
// origin_pool_dials.cpp (dial planning and dial results),
// origin_pool_credentials.cpp (the credential step).
#pragma once

#include "inflight/counters.hpp"
#include "inflight/exchange.hpp"
#include "conn/connection.hpp"
#include "pool/connector.hpp"
#include "pool/pool_clock.hpp"
#include "retry/retry.hpp"

#include <rebound/options.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace rebound::pool {

/// Dials pending at once for one origin when dials are staggered.
inline constexpr std::size_t max_staggered_dials = 3;

namespace asio = boost::asio;

/// What an origin pool needs from its shard.
struct PoolServices {
  asio::any_io_executor executor;  ///< where deferred work is posted
  const Options* options = nullptr;
  Connector* connector = nullptr;
  PoolClock* clock = nullptr;
  std::function<std::uint64_t()> next_connection_id;
  std::function<void(const Event&)> emit;      ///< may be empty; must not run user code inline
  inflight::AtomicCounters* counters = nullptr;  ///< shard-local, summed by the Client; may be null
  /// This origin's credentials (null: its requests carry none).
  std::shared_ptr<CredentialSource> credentials;
  /// Posts to `executor` from any thread, while the shard runs (its
  /// answers may come after the Client is gone); required with credentials.
  std::function<void(std::function<void()>)> post_from_any_thread;
};

/// Counts of connections per state, for tests and `dump`.
struct PoolCounts {
  std::size_t ready = 0, busy = 0, draining = 0, dialing = 0, waiting = 0;
  std::size_t authenticating = 0;  ///< requests waiting for their credential
  friend bool operator==(const PoolCounts&, const PoolCounts&) = default;
};

class OriginPool final : public ConnectionOwner, public std::enable_shared_from_this<OriginPool> {
 public:
  OriginPool(PoolServices services, Url origin);
  ~OriginPool();

  /// Finds a connection for `ex` now, or queues it (dialing if needed).
  void submit(std::shared_ptr<Exchange> ex);
  /// Closes idle connections older than idle_timeout; true when the pool is
  /// empty and can be dropped.
  bool reap(Clock::time_point now);
  /// Fails everything with client_shut_down and closes every connection.
  void shutdown();
  /// Retires every connection dialed with TLS material older than
  /// `generation` (rotated certificate files): they take nothing new,
  /// finish what runs on them and close, so none keeps presenting the old
  /// identity; requests go to fresh dials meanwhile.
  void retire_connections_older_than(std::uint64_t generation);

  PoolCounts counts() const;
  std::string dump() const;
  /// Connection slots taken against max_conns_per_origin: dials in flight
  /// and the connections that can take a request now or once a running one
  /// ends (DESIGN.md invariant 7).
  std::size_t slots_in_use() const;
  /// Where the pool itself holds a live exchange (requests on connections
  /// are the connections' to list): for the model checker.
  enum class Place : std::uint8_t { queued, authenticating };
  void for_each_held(const std::function<void(const Exchange&, Place)>& f) const;
  /// The protocol the origin is known (or assumed) to speak.
  Protocol protocol() const noexcept { return protocol_; }

  // ConnectionOwner
  void on_ready(Connection& c) override;
  void on_closed(Connection& c, const Error& why) override;
  void on_attempt_done(const std::shared_ptr<Exchange>& ex, Result<Response> result) override;
  void on_capacity_changed(Connection& c) override;
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
  /// pump() with the time its caller already read.
  void pump(Clock::time_point now);
  void pump_soon();
  // Credentials (origin_pool_credentials.cpp).
  void authenticate(std::shared_ptr<Exchange> ex);
  bool reauthenticate(const std::shared_ptr<Exchange>& ex, Response& answer);
  void fetch_credential(const std::optional<Credential>& rejected,
                        std::function<void(Result<Credential>)> then);
  /// Keeps `ex` while its credential is fetched; returns the fetch's number.
  std::uint64_t hold_for_credential(std::shared_ptr<Exchange> ex);
  /// The exchange fetch number `fetch` was for, taken back; null when it is
  /// no longer held (shutdown completed it, or the source answered twice).
  std::shared_ptr<Exchange> take_from_credential(std::uint64_t fetch);
  void watch_body_idle(Exchange& ex);
  void dispatch(Connection& c, std::shared_ptr<Exchange> ex, Clock::time_point now);
  void maybe_dial();
  struct DialPlan {
    std::size_t fresh = 0;   ///< dials for requests no pending dial will serve
    bool staggered = false;  ///< one more beside pending dials that went stale
  };
  DialPlan dials_wanted() const;
  bool may_be_http2() const noexcept;
  /// `staggered`: beside pending dials, for requests they hold back (the
  /// oldest is cancelled at max_staggered_dials).
  void start_dial(bool staggered);
  /// Whether the youngest pending dial has been pending for the stagger
  /// and none has reached the peer.
  bool dials_stale() const;
  bool dials_racing() const;  // some dial still has addresses of its name to try
  /// Staggered dials rotated for connect_timeout without a connection.
  bool dial_streak_timed_out() const;
  /// Ends such a streak as one failed dial (connect_timeout).
  void fail_dial_streak();
  void cancel_dials(std::size_t keep_newest);
  void on_dialed(const net::Dial* which, Error err, net::DialResult result);
  void after_dial_failure(const Error& err);
  /// Whether the failed dial `err` is within a streak of refused dials
  /// young enough for a fast redial (retry::fast_redial_window); keeps the
  /// streak's record.
  bool note_refused_streak(const Error& err);
  void schedule_redial(bool fast);
  void end_backoff();
  /// Makes sure pump() runs at `at`, when a resting request wakes.
  void schedule_wake(Clock::time_point at);
  void retry_or_complete(const std::shared_ptr<Exchange>& ex, Error err);
  /// A 429 or 503 with Retry-After for a request that may be repeated:
  /// queued again to rest for the server's delay (true), within its
  /// deadline and the budget; otherwise the caller gets the answer (false).
  bool retry_busy_answer(const std::shared_ptr<Exchange>& ex, const Response& answer);
  retry::RequestFacts facts_of(const Exchange& ex) const;
  void finish(const std::shared_ptr<Exchange>& ex, Result<Response>&& result);
  bool observed() const noexcept { return static_cast<bool>(services_.emit); }
  void emit(EventKind kind, std::uint64_t conn, Protocol p, error_code ec, std::string detail);

  PoolServices services_;
  const Options& options_;
  PoolClock& clock_;
  Url origin_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::deque<std::shared_ptr<Exchange>> waiting_;
  // Requests whose credential is being fetched (before their first attempt,
  // or a fresh one after a 401). The pool owns them meanwhile - not the
  // source's callback, which holds only the fetch's number - so the reaper
  // keeps the pool and shutdown completes them (DESIGN.md invariant 6).
  struct Authenticating {
    std::shared_ptr<Exchange> ex;
    std::uint64_t fetch;
  };
  std::vector<Authenticating> authenticating_;
  std::uint64_t fetches_ = 0;
  struct PendingDial {
    std::shared_ptr<net::Dial> dial;
    Clock::time_point started;
  };
  std::vector<PendingDial> dials_;  // in flight, oldest first
  ScheduledCall stagger_;           // set while dials are pending: the next fresh dial may start then
  Clock::time_point dialing_since_{};  // when the current streak of pending dials began
  bool rotated_ = false;               // a dial of the streak was cancelled to make way
  Protocol protocol_ = Protocol::http1;
  bool protocol_known_ = false;  // plain http, or learned from a TLS dial's ALPN
  retry::Budget budget_;
  int consecutive_dial_failures_ = 0;
  // The current streak of refused dials (ECONNREFUSED) began then; unset
  // when the last dial failed otherwise or succeeded.
  std::optional<Clock::time_point> refused_since_;
  int fast_redials_ = 0;  // of consecutive_dial_failures_, those redialed fast
  // Connections whose client certificate the server rejected after the
  // handshake (TLS 1.3), since the last response: their dials "succeeded".
  int rejections_in_a_row_ = 0;
  ScheduledCall redial_;  // set while backing off after dial failures
  ScheduledCall wake_;    // set while a request rests after repeated refusals
  Clock::time_point wake_at_{};
  std::minstd_rand random_;
  bool pump_posted_ = false;
  bool shut_down_ = false;
};

}  // namespace rebound::pool
