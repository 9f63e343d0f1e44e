// Observability: what happened to requests and connections, as events a user
// hook receives, and counters a user can snapshot.
//
// Thread safety: the hook is called on the Client's I/O threads, from a
// handler of its own (never inside an engine operation, never while an
// internal lock is held), in the order the events happened, so it may send
// or cancel requests; it must be thread-safe when io_threads > 1 and must
// not block. Counters are atomics read with Client::counters().
#pragma once

#include <rebound/error.hpp>
#include <rebound/export.hpp>
#include <rebound/response.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace rebound {

enum class EventKind : std::uint8_t {
  dial_start,         ///< a new connection is being dialed (origin)
  dial_done,          ///< TCP (and TLS) established; `protocol` is the negotiated one
  dial_failed,        ///< the dial failed; `error` says why
  connection_reused,  ///< a request was given an existing connection
  request_start,      ///< an attempt was put on a connection (stream opened)
  request_done,       ///< the request completed (response or final error)
  retry,              ///< an attempt failed and will be retried; `detail` has the reason
  goaway,             ///< the peer sent GOAWAY; `detail` has last-stream-id and code
  ping_sent,          ///< a health-check PING was sent
  ping_acked,         ///< a health-check PING was acknowledged
  connection_closed,  ///< a connection left the pool; `error`/`detail` say why
  tls_reloaded,       ///< the TLS files changed: loaded for new connections, or (`error` set) unusable and ignored
  redirect,           ///< a 3xx was followed (`detail`: "301 GET http://a/x -> GET http://b/y"), or
                      ///< declined and returned as the response (`detail` says why)
};
REBOUND_API const char* to_string(EventKind k) noexcept;

struct Event {
  EventKind kind{};
  std::chrono::steady_clock::time_point time;
  std::string origin;            ///< "https://host:port"
  std::uint64_t connection = 0;  ///< connection id, 0 when none
  Protocol protocol = Protocol::http1;
  error_code error;              ///< set for failures
  std::string detail;            ///< human-readable extra
};

using EventHook = std::function<void(const Event&)>;

/// Counters since the Client was created.
struct Counters {
  std::uint64_t requests_started = 0;
  std::uint64_t requests_succeeded = 0;
  std::uint64_t requests_failed = 0;
  std::uint64_t retries = 0;
  std::uint64_t dials = 0;
  std::uint64_t dial_failures = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t connections_closed = 0;
  /// Second completions of one request (dropped), and requests that nothing
  /// owned any more when they were destroyed (completed then with
  /// client_shut_down): always 0 unless rebound has a bug (checked builds
  /// abort on a second completion). Tests assert it stays 0.
  std::uint64_t completions_dropped = 0;
  /// Completions that threw where rebound runs them: a send_async callback
  /// (on an I/O thread), or a completion token without an executor of its
  /// own (on Asio's system executor). Caught, counted here, and otherwise
  /// ignored: no run() of the caller's could receive them.
  std::uint64_t callbacks_threw = 0;
};

}  // namespace rebound
