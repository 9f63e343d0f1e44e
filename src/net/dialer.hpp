// Dialing: resolve (getaddrinfo, anew for every dial; Options::resolve
// instead when it names the host), TCP connect racing every address (Happy
// Eyeballs, net/address_race.hpp; with timeout and socket options), the
// proxy's handshake when the Client uses one (HTTP CONNECT, SOCKS5), TLS
// handshake (SNI, ALPN, verification, session resumption). Produces a
// connected Stream and the negotiated protocol, or a classified error
// (progress::not_sent).
#pragma once

#include "net/proxy_config.hpp"
#include "net/stream.hpp"
#include "net/tls_context.hpp"

#include <rebound/error.hpp>
#include <rebound/options.hpp>
#include <rebound/response.hpp>
#include <rebound/url.hpp>


#include <functional>
#include <memory>

namespace rebound::net {

/// Plain http:// through an HTTP proxy: the connection is to the proxy, and
/// HTTP/1.1 sends each request in absolute form with these credentials.
struct ForwardProxy {
  bool absolute_form = false;
  std::string authorization;  ///< Proxy-Authorization value, empty without credentials
};

struct DialResult {
  std::unique_ptr<Stream> stream;
  Protocol protocol = Protocol::http1;
  std::string tls_cipher;  ///< negotiated cipher suite, empty without TLS
  /// TlsContext::generation() of the material the handshake used (0 without TLS).
  std::uint64_t tls_generation = 0;
  bool tls_resumed = false;  ///< the TLS handshake resumed a cached session
  std::string proxy;         ///< the proxy's display() when dialed through one
  ForwardProxy forward;
  /// The address TCP connected to ("127.0.0.1:443", "[::1]:443"): the
  /// proxy's when dialed through one.
  std::string peer_address;
  /// The addresses of the name that failed before it, "address: reason; ..."
  /// (Happy Eyeballs' race); empty when the first address answered.
  std::string failed_addresses;
};

/// Called once: a default (empty) Error on success.
using DialHandler = std::function<void(Error, DialResult)>;

/// Dials `url`'s origin on `executor`. The handler is called exactly once,
/// on `executor`, within connect_timeout (which covers resolution, the
/// proxy's handshake and TLS). `cancel` aborts the dial (errc::cancelled).
/// `proxies` (null: direct) picks the proxy; it must outlive the dial.
class Dial {
 public:
  static std::shared_ptr<Dial> start(asio::any_io_executor executor, const Url& url,
                                     const Options& options,
                                     std::shared_ptr<TlsContext> tls,
                                     DialHandler handler, const ProxySelector* proxies = nullptr);
  virtual ~Dial() = default;
  virtual void cancel() = 0;
  /// True once TCP connected (a proxy's or TLS handshake may still run):
  /// the path to the next hop works, whatever happens next.
  virtual bool reached_peer() const noexcept = 0;
  /// True while the dial's address race has addresses still to try: it
  /// sends a fresh SYN at least every 250 ms itself, so the pool's
  /// dial_stagger starts no whole dial beside it.
  virtual bool racing() const noexcept { return false; }
};

/// The first of options.resolve for `host` (case-insensitive) and `port`, or null.
const ResolveOverride* find_resolve_override(const Options& options, const std::string& host,
                                             std::uint16_t port) noexcept;

/// Applies TCP_NODELAY, keep-alive and TCP_USER_TIMEOUT to a connected socket.
void apply_socket_options(tcp::socket& socket, const Options& options);

}  // namespace rebound::net
