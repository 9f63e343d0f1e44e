// Dialing: resolve, TCP connect (with timeout and socket options), TLS
// handshake (SNI, ALPN, verification). Produces a connected Stream and the
// negotiated protocol, or a classified error (progress::not_sent).
#pragma once

#include "net/stream.hpp"
#include "net/tls_context.hpp"

#include <rebound/error.hpp>
#include <rebound/options.hpp>
#include <rebound/response.hpp>
#include <rebound/url.hpp>


#include <functional>
#include <memory>

namespace rebound::net {

struct DialResult {
  std::unique_ptr<Stream> stream;
  Protocol protocol = Protocol::http1;
  std::string tls_cipher;  ///< negotiated cipher suite, empty without TLS
  /// TlsContext::generation() of the material the handshake used (0 without TLS).
  std::uint64_t tls_generation = 0;
};

/// Called once: a default (empty) Error on success.
using DialHandler = std::function<void(Error, DialResult)>;

/// Dials `url`'s origin on `executor`. The handler is called exactly once,
/// on `executor`. `cancel` (if set) aborts the dial (operation_aborted).
class Dial {
 public:
  static std::shared_ptr<Dial> start(asio::any_io_executor executor, const Url& url,
                                     const Options& options,
                                     std::shared_ptr<TlsContext> tls,
                                     DialHandler handler);
  virtual ~Dial() = default;
  virtual void cancel() = 0;
  /// True once TCP connected (a TLS handshake may still run): the path to
  /// the peer works, whatever happens next.
  virtual bool reached_peer() const noexcept = 0;
};

/// Applies TCP_NODELAY, keep-alive and TCP_USER_TIMEOUT to a connected socket.
void apply_socket_options(tcp::socket& socket, const Options& options);

}  // namespace rebound::net
