// A gRPC call's outcome: the status code and message the server sent
// (grpc-status, grpc-message), or the one rebound derived when no server
// status arrived (a transport failure, a non-gRPC answer).
//
// Errors: none; these are values. Thread safety: value types.
#pragma once

#include <rebound/error.hpp>
#include <rebound/headers.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::grpc {

/// gRPC's status codes (their numbers are the protocol's).
enum class StatusCode : std::uint8_t {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};
/// "OK", "CANCELLED", ... as gRPC spells them; "CODE_<n>" for others.
const char* to_string(StatusCode c) noexcept;

struct Status {
  StatusCode code = StatusCode::ok;
  std::string message;  ///< grpc-message, percent-decoded (or rebound's explanation)
  /// True when the code came from the server's grpc-status. False when
  /// rebound derived it: from a transport error (`transport` is set), from
  /// a non-200 HTTP status, or from a malformed answer. A server status is
  /// an answer: the call was processed, and rebound never resent it.
  bool from_server = false;
  /// The transport's error when the call failed below gRPC.
  std::optional<rebound::Error> transport;

  bool ok() const noexcept { return code == StatusCode::ok; }
  /// "OK" or "UNAVAILABLE: message".
  std::string to_string() const;
};

/// The status a finished response carries: grpc-status from the trailers,
/// or from the headers of a trailers-only response; an HTTP status other
/// than 200 maps as gRPC's spec says (404 -> UNIMPLEMENTED, 503 ->
/// UNAVAILABLE...); a 200 without grpc-status is INTERNAL.
Status status_of(int http_status, const Headers& headers, const Headers& trailers);

/// The status for a call that failed in the transport: CANCELLED for
/// errc::cancelled, DEADLINE_EXCEEDED for the call's time limits, else
/// UNAVAILABLE (a dial that timed out and a connection found dead by its
/// health check included).
Status status_of(const rebound::Error& transport);

/// grpc-message's percent-encoding undone (invalid escapes are kept as is).
std::string percent_decode(std::string_view s);

}  // namespace rebound::grpc
