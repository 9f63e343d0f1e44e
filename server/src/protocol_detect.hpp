// Decides what an accepted connection speaks, then hands it to a session:
//   TLS:       handshake, then ALPN "h2" -> HTTP/2, anything else -> HTTP/1.1
//   plain TCP: read until the bytes diverge from the HTTP/2 client preface
//              "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (-> HTTP/1.1) or all 24 match
//              (-> h2c prior knowledge); the bytes read go to the session.
#pragma once

#include <cstdint>

#include <boost/asio/ip/tcp.hpp>

#include "server_context.hpp"

namespace rebound::server::detail {

/// Call on the socket's own executor.
void serve_connection(ServerContext& ctx, boost::asio::ip::tcp::socket socket, std::uint64_t id);

}  // namespace rebound::server::detail
