// An HTTP CONNECT tunnel (RFC 9110 9.3.6) through an HTTP/1.1 proxy, on
// Boost.Beast: the request with its Proxy-Authorization, and the proxy's
// answer classified - 2xx opens the tunnel, 407 (or 401: only the proxy
// answers a CONNECT) is proxy_auth_required,
// anything else proxy_tunnel_refused with the status.
#pragma once

#include "net/proxy_config.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace rebound::net {

/// The error a CONNECT answered with `status` means (default Error for 2xx).
/// `reason` is the proxy's reason phrase, quoted in the message.
Error classify_connect_status(unsigned status, std::string_view reason, const ProxyUrl& proxy);

/// Called once: default Error when the tunnel is open (the socket then
/// carries bytes to the origin), else the failure. Socket errors are
/// proxy_unreachable, except operation_aborted (the caller closed the
/// socket), passed through. A proxy that sends bytes past its 2xx header
/// before we spoke is a protocol_error.
using TunnelHandler = std::function<void(Error)>;

/// Sends "CONNECT host:port" on `socket` (connected to `proxy`, which must
/// outlive the operation) and reads the answer's header. No timeout of its
/// own: the caller closes the socket.
void async_connect_tunnel(boost::asio::ip::tcp::socket& socket, const ProxyUrl& proxy, const std::string& host,
                          std::uint16_t port, TunnelHandler done);

}  // namespace rebound::net
