// gRPC statuses: their names, where a response keeps them (trailers, or
// the headers of a trailers-only response), what an HTTP status or a
// transport error means as one, and grpc-message's percent-decoding.
#include "rebound/grpc/status.hpp"

#include <charconv>

namespace rebound::grpc {

const char* to_string(StatusCode c) noexcept {
  static const char* const names[] = {
      "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS",     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",             "ABORTED",           "OUT_OF_RANGE",     "UNIMPLEMENTED",
      "INTERNAL",  "UNAVAILABLE",        "DATA_LOSS",         "UNAUTHENTICATED"};
  const auto i = static_cast<std::size_t>(c);
  return i < std::size(names) ? names[i] : "CODE_UNKNOWN";
}

std::string Status::to_string() const {
  std::string s = grpc::to_string(code);
  if (!message.empty()) s += ": " + message;
  return s;
}

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

namespace {

// gRPC's "HTTP to gRPC status code mapping", for answers without grpc-status.
StatusCode from_http(int http_status) {
  switch (http_status) {
    case 400: return StatusCode::internal;
    case 401: return StatusCode::unauthenticated;
    case 403: return StatusCode::permission_denied;
    case 404: return StatusCode::unimplemented;
    case 429:
    case 502:
    case 503:
    case 504: return StatusCode::unavailable;
    default: return StatusCode::unknown;
  }
}

std::optional<Status> server_status(const Headers& fields) {
  const auto code = fields.get("grpc-status");
  if (!code) return std::nullopt;
  Status s;
  s.from_server = true;
  unsigned value = 0;
  const auto* end = code->data() + code->size();
  const auto [ptr, ec] = std::from_chars(code->data(), end, value);
  if (ec != std::errc{} || ptr != end || code->empty()) {
    s.code = StatusCode::unknown;
    s.message = "unreadable grpc-status \"" + std::string(*code) + "\"";
    return s;
  }
  s.code = static_cast<StatusCode>(value > 16 ? 2 : value);  // an unknown code is UNKNOWN
  if (const auto m = fields.get("grpc-message")) s.message = percent_decode(*m);
  return s;
}

}  // namespace

Status status_of(int http_status, const Headers& headers, const Headers& trailers) {
  if (http_status != 200) {
    Status s;
    s.code = from_http(http_status);
    s.message = "HTTP status " + std::to_string(http_status);
    return s;
  }
  if (auto s = server_status(trailers)) return *s;
  // Trailers-only: the server put its status in the only HEADERS it sent.
  if (auto s = server_status(headers)) return *s;
  Status s;
  s.code = StatusCode::internal;
  s.message = "the response carried no grpc-status";
  return s;
}

Status status_of(const rebound::Error& transport) {
  Status s;
  s.transport = transport;
  s.message = transport.message();
  // A time limit of the call is its deadline; a dial that timed out or a
  // connection whose PING went unanswered is the transport failing.
  if (transport == errc::cancelled) s.code = StatusCode::cancelled;
  else if (transport == condition::timeout && transport != errc::connect_timeout &&
           transport != errc::health_check_failed)
    s.code = StatusCode::deadline_exceeded;
  else s.code = StatusCode::unavailable;
  return s;
}

}  // namespace rebound::grpc
