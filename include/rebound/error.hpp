// rebound's errors: the error codes (`rebound::errc`), the broader conditions
// callers test (`rebound::condition`), the predicates that classify any
// error_code, and `rebound::Error`, which adds to a code where it happened and
// how far the request got.
//
// Identity: both categories are constructed with fixed 64-bit ids, so a code
// made by one copy of rebound compares equal to the same code made by another
// copy in the same process (two shared objects, static + shared). Classify
// with the predicates or by comparing with `errc`/`condition` values - never
// by message text or by the address of a category.
//
// Thread safety: everything here is immutable or a value type; safe to use
// from any thread.
#pragma once

#include <rebound/export.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace rebound {

using boost::system::error_code;

/// What failed. Values are stable: they are part of the ABI and appear in
/// JSON output by name (see `to_string(errc)`).
enum class errc : int {
  // --- the request itself ---
  invalid_url = 1,           ///< the URL could not be parsed; the message says where
  unsupported_scheme,        ///< a scheme other than http or https
  invalid_request,           ///< a malformed method, header name or value
  // --- reaching the server (the request never left the client) ---
  resolve_failed,            ///< the host name did not resolve
  connection_refused,        ///< nothing listens at the address (TCP RST to SYN)
  connect_timeout,           ///< TCP connect did not finish within connect_timeout
  tls_handshake_failed,      ///< TLS handshake failed for a reason other than the certificate
  certificate_verify_failed, ///< the certificate chain or host name did not verify
  protocol_negotiation_failed, ///< ALPN or HTTP/2 preface/SETTINGS exchange failed
  // --- the connection died ---
  connection_closed,         ///< closed or reset by the peer before the request was sent
  connection_lost_after_send, ///< closed/reset after the request was sent and before any
                              ///< response byte: the server may have processed it
  truncated_response,        ///< the connection failed after the response had started
  health_check_failed,       ///< no PING ACK within ping_timeout: the peer is gone silently
  // --- limits and time ---
  deadline_exceeded,         ///< the request's deadline passed
  response_header_timeout,   ///< no response header within response_header_timeout
  response_too_large,        ///< a response header or body exceeded the configured limit
  queue_full,                ///< the origin's wait queue is full
  // --- the server said no ---
  protocol_error,            ///< the peer broke HTTP/1.1 or HTTP/2 rules
  refused_by_server,         ///< REFUSED_STREAM, or a GOAWAY that excluded the stream:
                             ///< the server provably did not process it
  stream_reset,              ///< the server reset the stream (RST_STREAM other than REFUSED)
  // --- the caller or the client ---
  cancelled,                 ///< the caller cancelled the request
  client_shut_down,          ///< the Client was destroyed or shut down while the request ran
  retries_exhausted,         ///< every allowed attempt failed; see the last attempt's cause
  // --- added later (values are fixed: only ever append) ---
  credentials_failed,        ///< the credential source could not produce credentials
  tls_configuration,         ///< a CA, client certificate or key could not be loaded
  body_idle_timeout,         ///< no response body byte within the request's body_idle_timeout
  client_certificate_rejected, ///< the server refused our client certificate, or its absence, with
                               ///< a TLS alert (during the handshake, or right after it in TLS 1.3)
  callback_threw,            ///< the request's body sink or body source threw; the message says
                             ///< which, and what it threw. The request is not resent.
  proxy_unreachable,         ///< the proxy did not resolve, refused the connection, or closed it
                             ///< during its handshake
  proxy_auth_required,       ///< the proxy wants credentials, or refused ours (HTTP 407, SOCKS5)
  proxy_tunnel_refused,      ///< the proxy would not open the tunnel to the origin: the CONNECT
                             ///< status or the SOCKS5 reply is in the message
  http2_required,            ///< the request needs HTTP/2 (a Request::body_writer body) and the
                             ///< origin's connection speaks HTTP/1.1; not sent, not retried
  too_many_redirects,        ///< more redirects than the RedirectPolicy's max_redirects
  redirect_loop,             ///< a redirect led back to a method and URL this request already visited
  content_decoding_failed,   ///< the response's Content-Encoding (gzip, br, zstd) did not decode:
                             ///< corrupt or truncated; the message says which encoding and why
};

/// Broad classes of failure. Codes of other categories that reach callers
/// (Asio's eof/connection_reset, the system's ECONNREFUSED/ETIMEDOUT, Beast's
/// timeout, OpenSSL's stream_truncated) are equivalent to these too.
enum class condition : int {
  connection_failure = 1, ///< the transport failed: refused, reset, closed, lost, silent
  timeout,                ///< some time limit passed
  retryable,              ///< a transient failure a later attempt may not meet
  request_error,          ///< the request itself is wrong; retrying will not help
};

/// How far an attempt got before it failed. Decides what may be retried
/// (see DESIGN.md's retry table).
enum class progress : std::uint8_t {
  not_sent,          ///< never left the client (dial failed, dead pooled connection)
  refused,           ///< sent, but the server proved it did not process it
  sent,              ///< (some of) the request was written; no response byte seen
  response_started,  ///< response headers arrived before the failure
};

REBOUND_API const boost::system::error_category& error_category() noexcept;
REBOUND_API const boost::system::error_category& condition_category() noexcept;

/// The fixed ids. Chosen once at random; never change them.
inline constexpr std::uint64_t error_category_id = 0xA7C3F1D95B2E4068ull;
inline constexpr std::uint64_t condition_category_id = 0x3E91B7C5D2046AF3ull;

inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}
inline boost::system::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

/// The enumerator's name ("connection_refused"); "unknown" for other values.
REBOUND_API const char* to_string(errc e) noexcept;
REBOUND_API const char* to_string(progress p) noexcept;

/// A stable short name for any code: rebound's errc name, or the nearest
/// rebound name for a foreign code it recognises, or "category:value".
REBOUND_API std::string error_kind(const error_code& ec);

/// True when the transport failed (refused, reset, closed, lost, silent death),
/// whichever category the code comes from.
REBOUND_API bool is_connection_failure(const error_code& ec) noexcept;
/// True when a time limit passed (connect, header, deadline, health check,
/// ETIMEDOUT, Beast's timeout).
REBOUND_API bool is_timeout(const error_code& ec) noexcept;
/// True when the failure is transient: a later attempt (on a new connection)
/// may succeed. Says nothing about whether *this* request may be resent -
/// that also depends on how far it got; see `rebound::retry`.
REBOUND_API bool is_retryable(const error_code& ec) noexcept;

/// An error as rebound reports it: the code, what request and connection it
/// concerns, and how far the request got.
class REBOUND_API Error {
 public:
  Error() = default;
  Error(error_code code, std::string where = {}, progress reached = progress::not_sent,
        int attempts = 0)
      : code_(code), where_(std::move(where)), reached_(reached), attempts_(attempts) {}
  Error(errc e, std::string where = {}, progress reached = progress::not_sent, int attempts = 0)
      : Error(make_error_code(e), std::move(where), reached, attempts) {}

  const error_code& code() const noexcept { return code_; }
  /// Free text naming what was being done: request line, origin, connection.
  const std::string& where() const noexcept { return where_; }
  progress reached() const noexcept { return reached_; }
  /// Attempts made before giving up (0 when none was started).
  int attempts() const noexcept { return attempts_; }
  /// One line: what failed, where, and how far the request got.
  std::string message() const;

  explicit operator bool() const noexcept { return static_cast<bool>(code_); }
  friend bool operator==(const Error& e, errc c) noexcept { return e.code_ == make_error_code(c); }
  friend bool operator==(const Error& e, condition c) noexcept {
    return e.code_ == make_error_condition(c);
  }

  Error& set_where(std::string w) { where_ = std::move(w); return *this; }
  Error& set_reached(progress p) { reached_ = p; return *this; }
  Error& set_attempts(int n) { attempts_ = n; return *this; }

 private:
  error_code code_;
  std::string where_;
  progress reached_ = progress::not_sent;
  int attempts_ = 0;
};

/// Thrown by `Result<T>::value()` on an error, and by constructors that
/// cannot report otherwise.
class REBOUND_API Exception : public std::runtime_error {
 public:
  explicit Exception(Error e);
  const Error& error() const noexcept { return error_; }
 private:
  Error error_;
};

/// boost::system::result's hook: what `.value()` throws.
[[noreturn]] REBOUND_API void throw_exception_from_error(const Error& e,
                                                         const boost::source_location& loc);

/// The result of a request: a value or an Error.
template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace rebound

template <>
struct boost::system::is_error_code_enum<rebound::errc> : std::true_type {};
template <>
struct boost::system::is_error_condition_enum<rebound::condition> : std::true_type {};
