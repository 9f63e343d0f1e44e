// The protocol-neutral face of one pooled connection: its lifecycle state
// (one enum, one transition function that refuses illegal moves loudly),
// the owner it reports to, and the one way a connection ends (hand every
// attempt back with how far it got, then tell the owner). HTTP/1.1 and
// HTTP/2 connections implement the rest; the origin pool only sees this.
//
//     ready <-> busy -> draining -> closed
//       \_____________________________/ (any error)
//
// A dial in flight is not a Connection (see pool/origin_pool.hpp). All of it
// runs on its shard's I/O thread.
#pragma once

#include "inflight/exchange.hpp"

#include <rebound/error.hpp>
#include <rebound/events.hpp>
#include <rebound/response.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>

namespace rebound::conn {

using inflight::Clock;
using inflight::Exchange;

/// What a response's Content-Length may reserve before its bytes arrive
/// (both protocols): the header is the server's claim, and many streams may
/// make it at once; beyond this the body grows with what arrives.
inline constexpr std::uint64_t max_body_reserve = 1u << 20;

enum class ConnState : std::uint8_t {
  ready,     ///< alive and may take another request
  busy,      ///< alive, at capacity (h1: a request in flight; h2: max streams open)
  draining,  ///< GOAWAY received or shutdown asked: in-flight work finishes, nothing new
  closed,    ///< gone; every attempt on it has been handed back. Final.
};
const char* to_string(ConnState s) noexcept;

/// Whether the lifecycle allows `from` -> `to` (the table the tests pin).
bool transition_allowed(ConnState from, ConnState to) noexcept;

class Connection;

/// Who a connection reports to: the origin pool. Calls happen on the I/O
/// thread. One may come from inside Connection::submit: a connection that
/// can no longer open a stream (HTTP/2 ids exhausted, the session ending)
/// hands the attempt back at once, not sent, after it stopped taking work -
/// the pool takes a request off its queue before submitting it, so that
/// retry lands on another connection. Every other call comes from the
/// connection's own I/O completions.
class ConnectionOwner {
 public:
  /// The connection can take more requests (it became ready).
  virtual void on_ready(Connection& c) = 0;
  /// The connection has closed; it will never report again.
  virtual void on_closed(Connection& c, const Error& why) = 0;
  /// An attempt finished: a response, or an Error whose reached() says how
  /// far it got (the pool asks the retry part what to do).
  virtual void on_attempt_done(const std::shared_ptr<Exchange>& ex, Result<Response> result) = 0;
  /// What the connection can take changed without it becoming ready: it
  /// stopped taking requests but did not close (it turned suspect, or began
  /// draining: the slot it held is free), or it learned its peer's limits
  /// and they leave requests waiting (HTTP/2 SETTINGS with few streams):
  /// the pool may need a dial now. Never called from inside
  /// Connection::submit.
  virtual void on_capacity_changed(Connection& c) = 0;
  /// Health events (GOAWAY, PING) for observability.
  virtual void on_connection_event(Connection& c, EventKind kind, std::string detail) = 0;

 protected:
  ~ConnectionOwner() = default;
};

/// How far one attempt on a closing connection had got: what close_attempts
/// needs to tell the retry part the truth.
struct InFlight {
  std::shared_ptr<Exchange> ex;  ///< null: abandoned, nothing to hand back
  bool request_sent = false;     ///< our request (h2: its HEADERS) left
  bool response_started = false; ///< the final response header arrived
  std::optional<errc> local_error;  ///< a limit we hit on this attempt
  /// Already decided (a response that came with the close, or an error the
  /// connection named itself): handed back as it is.
  std::optional<Result<Response>> outcome;
};

class Connection : public inflight::AttemptCarrier {
 public:
  Connection(ConnectionOwner& owner, std::uint64_t id, Protocol protocol)
      : owner_(&owner), id_(id), protocol_(protocol) {}
  virtual ~Connection() = default;

  ConnState state() const noexcept { return state_; }
  bool can_take() const noexcept { return state_ == ConnState::ready; }
  std::uint64_t id() const noexcept { return id_; }
  Protocol protocol() const noexcept { return protocol_; }
  /// True once the connection has carried a request (for Response::reused_connection).
  bool used() const noexcept { return used_; }
  /// When the connection last carried a request: what its protocol reports
  /// (mark_idle) and what the pool saw (note_activity), whichever is later.
  Clock::time_point idle_since() const noexcept { return idle_since_; }
  /// The pool's own record that a request started, ran or ended on the
  /// connection at `now`: the reaper never takes a connection in use for
  /// an idle one, whatever the protocol's bookkeeping says.
  void note_activity(Clock::time_point now) noexcept {
    if (now > idle_since_) idle_since_ = now;
  }
  /// Requests currently on the connection.
  virtual std::size_t active() const noexcept = 0;
  /// True while a new connection still waits for the peer's limits (HTTP/2:
  /// the server's first SETTINGS, which may allow fewer streams than the
  /// 100 assumed before it). Meanwhile it takes one request, and the pool
  /// dials nothing beside it: its real capacity is about to arrive, and
  /// requests sent past an unknown limit come back refused.
  virtual bool limits_pending() const noexcept { return false; }
  /// True while the connection gave up a stream that timed out and takes
  /// no new one until it proves alive (HTTP/2: any frame read). It may never
  /// prove it (no PING may be sent), so the pool does not count it as a
  /// slot that can take a request (DESIGN.md invariant 7).
  virtual bool suspect() const noexcept { return false; }

  /// Starts `ex`'s attempt here. Precondition: can_take().
  virtual void submit(std::shared_ptr<Exchange> ex) = 0;
  /// Graceful: take nothing new, finish what runs, then close.
  virtual void shutdown() = 0;
  /// Retire (its TLS material was replaced, say): take nothing new, finish
  /// what runs, close once idle - at once if idle now. `why` goes into the
  /// close's description. The owner hears on_capacity_changed.
  virtual void retire(std::string why) = 0;
  /// The TLS material generation the connection was dialed with (0: none).
  std::uint64_t tls_generation() const noexcept { return tls_generation_; }
  void set_tls_generation(std::uint64_t g) noexcept { tls_generation_ = g; }
  /// Abrupt: close now; every attempt on it is handed back with `why`.
  virtual void close(const Error& why) = 0;
  /// Called by the pool when it stops tracking the connection (no more owner calls).
  void detach() noexcept { owner_ = nullptr; }

  /// "conn #3 (HTTP/2, ready, 2 active)".
  std::string describe() const;

 protected:
  /// The one place the state changes. An illegal move (closed is final,
  /// draining never takes work again, no move to the same state) is a bug:
  /// it aborts in checked builds (Debug, sanitizers) and is refused otherwise.
  bool transition(ConnState to);
  ConnectionOwner* owner() const noexcept { return owner_; }
  void mark_used() noexcept { used_ = true; }
  void mark_idle(Clock::time_point now = Clock::now()) noexcept { idle_since_ = now; }

  /// The last step of every close, whichever protocol: hands each attempt
  /// back to the owner with its outcome or the error that says how far it
  /// got (a limit we hit; a truncated response; lost after sending; or never
  /// sent), then reports the close - always in that order: a closed
  /// connection never reports again. The caller has already moved to closed and released
  /// its transport.
  void close_attempts(const Error& why, std::vector<InFlight> attempts);

 private:
  std::uint64_t tls_generation_ = 0;
  ConnectionOwner* owner_;
  std::uint64_t id_;
  Protocol protocol_;
  ConnState state_ = ConnState::ready;
  bool used_ = false;
  Clock::time_point idle_since_ = Clock::now();
};

std::ostream& operator<<(std::ostream& os, const Connection& c);

}  // namespace rebound::conn
