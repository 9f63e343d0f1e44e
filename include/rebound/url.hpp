// Parsing of http/https URLs into the parts a request needs: scheme, host,
// port, request target, and the origin key the pool groups connections by.
//
// Errors: `parse_url` returns errc::invalid_url (with a message naming what is
// wrong and where) or errc::unsupported_scheme. Thread safety: value type.
#pragma once

#include <rebound/error.hpp>
#include <rebound/export.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace rebound {

/// A parsed absolute http(s) URL.
class REBOUND_API Url {
 public:
  /// "http" or "https".
  const std::string& scheme() const noexcept { return scheme_; }
  /// The host without brackets: "example.com", "127.0.0.1", "::1".
  const std::string& host() const noexcept { return host_; }
  /// The port; the scheme's default when the URL names none.
  std::uint16_t port() const noexcept { return port_; }
  /// True for https.
  bool tls() const noexcept { return scheme_ == "https"; }
  /// True when the host is an IPv6 literal.
  bool ipv6() const noexcept { return ipv6_; }
  /// Path and query as sent on the request line: "/a/b?x=1" ("/" when empty).
  const std::string& target() const noexcept { return target_; }
  /// The Host header / :authority value: host[:port], IPv6 bracketed, the
  /// port left out when it is the scheme's default.
  const std::string& authority() const noexcept { return authority_; }
  /// "scheme://host:port" with the port always present: the pool's key.
  const std::string& origin() const noexcept { return origin_; }
  /// The URL written back in normal form.
  std::string str() const { return scheme_ + "://" + authority() + target_; }

 private:
  friend REBOUND_API Result<Url> parse_url(std::string_view text);
  std::string scheme_;
  std::string host_;
  std::uint16_t port_ = 0;
  bool ipv6_ = false;
  std::string target_;
  std::string authority_;  // derived at parse time: every request needs them
  std::string origin_;
};

/// Parses an absolute http or https URL (RFC 3986). Userinfo is rejected
/// (credentials belong in headers); the fragment is dropped.
REBOUND_API Result<Url> parse_url(std::string_view text);

}  // namespace rebound
