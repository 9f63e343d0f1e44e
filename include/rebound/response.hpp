// A response: status, headers, body, trailers, and how it was obtained
// (protocol, connection id, whether the connection was reused, attempts).
//
// Thread safety: a value type.
#pragma once

#include <rebound/export.hpp>
#include <rebound/headers.hpp>

#include <cstdint>
#include <string>

namespace rebound {

/// The wire protocol a connection speaks.
enum class Protocol : std::uint8_t { http1, http2 };
REBOUND_API const char* to_string(Protocol p) noexcept;  ///< "HTTP/1.1" / "HTTP/2"

class Response {
 public:
  int status() const noexcept { return status_; }
  const std::string& reason() const noexcept { return reason_; }
  const Headers& headers() const noexcept { return headers_; }
  const Headers& trailers() const noexcept { return trailers_; }
  const std::string& body() const noexcept { return body_; }
  std::string&& take_body() noexcept { return std::move(body_); }
  Protocol protocol() const noexcept { return protocol_; }
  /// The client-wide number of the connection that carried the final attempt.
  std::uint64_t connection_id() const noexcept { return connection_id_; }
  /// True when that connection had carried a request before.
  bool reused_connection() const noexcept { return reused_; }
  /// Attempts made, the successful one included (1 when not retried).
  int attempts() const noexcept { return attempts_; }
  /// The URL this response came from: the last hop's when redirects were
  /// followed. Set when the request ran under a redirect policy or with
  /// decompression (see redirects.hpp); empty otherwise (then it is the
  /// request's own URL).
  const std::string& url() const noexcept { return url_; }
  /// Redirects followed to reach this response (0 when none).
  int redirects() const noexcept { return redirects_; }

  // Setters, for the transports and for tests.
  Response& status(int s) { status_ = s; return *this; }
  Response& reason(std::string r) { reason_ = std::move(r); return *this; }
  Headers& headers() noexcept { return headers_; }
  Headers& trailers() noexcept { return trailers_; }
  std::string& body() noexcept { return body_; }
  Response& protocol(Protocol p) { protocol_ = p; return *this; }
  Response& connection(std::uint64_t id, bool reused) { connection_id_ = id; reused_ = reused; return *this; }
  Response& attempts(int n) { attempts_ = n; return *this; }
  Response& url(std::string u) { url_ = std::move(u); return *this; }
  Response& redirects(int n) { redirects_ = n; return *this; }

 private:
  int status_ = 0;
  std::string reason_;
  Headers headers_;
  Headers trailers_;
  std::string body_;
  Protocol protocol_ = Protocol::http1;
  std::uint64_t connection_id_ = 0;
  bool reused_ = false;
  int attempts_ = 0;
  std::string url_;
  int redirects_ = 0;
};

}  // namespace rebound
