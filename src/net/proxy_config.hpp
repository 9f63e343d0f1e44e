// Which proxy a dial goes through: proxy URLs (http, socks5, socks5h, with
// credentials), curl's environment variables and NO_PROXY rules, and the
// per-Client choice that Options::proxy and the environment make together.
// Pure: no I/O beyond reading the environment once at construction.
#pragma once

#include <rebound/error.hpp>
#include <rebound/options.hpp>
#include <rebound/url.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::net {

/// A parsed proxy URL.
struct ProxyUrl {
  enum class Kind : std::uint8_t { http, socks5, socks5h };
  Kind kind = Kind::http;
  std::string host;  ///< without brackets
  std::uint16_t port = 0;
  std::string user;      ///< percent-decoded; empty: no credentials
  std::string password;  ///< percent-decoded
  /// "scheme://host:port", never the credentials: for events and messages.
  std::string display() const;
  friend bool operator==(const ProxyUrl&, const ProxyUrl&) = default;
};

/// Parses "http://[user:pass@]host[:port]", "socks5://...", "socks5h://..."
/// or a bare "host:port" (http). Ports default to 80 (http) and 1080
/// (SOCKS). Errors: invalid_url (malformed, a path other than "/"),
/// unsupported_scheme (https:// proxies and anything else).
Result<ProxyUrl> parse_proxy_url(std::string_view text);

/// curl's NO_PROXY match of `host` (a name or an IP literal, without
/// brackets) and `port` against `list`: see ProxyOptions::no_proxy.
bool no_proxy_matches(std::string_view list, std::string_view host, std::uint16_t port);

/// The "Basic ..." value of a Proxy-Authorization header for `proxy`'s
/// credentials (empty without credentials).
std::string proxy_basic_authorization(const ProxyUrl& proxy);

/// A Client's proxy choice, made once (the environment is read at
/// construction). Thread-safe after construction (const).
class ProxySelector {
 public:
  using Getenv = std::function<const char*(const char*)>;
  /// `getenv` defaults to ::getenv; tests pass their own.
  explicit ProxySelector(const ProxyOptions& options, Getenv getenv = {});

  /// The proxy for `url` (nullopt: connect directly), or the error of a
  /// malformed setting (invalid_url / unsupported_scheme, naming it).
  Result<std::optional<ProxyUrl>> for_url(const Url& url) const;

 private:
  struct Setting {
    std::string source;  // "Options::proxy.url", "HTTPS_PROXY", ...
    std::optional<Result<ProxyUrl>> proxy;
  };
  Setting http_;
  Setting https_;
  std::string no_proxy_;
};

}  // namespace rebound::net
