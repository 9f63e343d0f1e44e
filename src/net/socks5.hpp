// SOCKS5 (RFC 1928) with username/password authentication (RFC 1929), the
// client side: the messages, encoded and checked as pure functions, and the
// asynchronous handshake that opens a tunnel over a connected socket.
#pragma once

#include "net/proxy_config.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace rebound::net::socks5 {

/// Version 5, offering "no authentication" and, with credentials,
/// "username/password" too.
std::string greeting(bool credentials);
/// The method the server chose (reply {5, method}): errc::proxy_auth_required
/// when it chose none of ours (0xFF, or username/password while we have no
/// credentials); proxy_tunnel_refused for a reply that is not SOCKS5.
Error check_method(std::array<std::uint8_t, 2> reply, bool credentials, std::uint8_t& method);
/// RFC 1929: {1, ulen, user, plen, password}. invalid_url when either is
/// longer than 255 bytes.
Result<std::string> auth_request(std::string_view user, std::string_view password);
/// RFC 1929's reply {1, status}: status 0 or errc::proxy_auth_required.
Error check_auth(std::array<std::uint8_t, 2> reply);
/// CONNECT to `host` (an IPv4/IPv6 literal is sent as an address, anything
/// else as a domain name the proxy resolves) and `port`. invalid_url for a
/// name longer than 255 bytes.
Result<std::string> connect_request(std::string_view host, std::uint16_t port);
/// The first five bytes of the CONNECT reply: the bytes still to read (the
/// rest of the bound address and its port), or proxy_tunnel_refused naming
/// the reply code ("connection refused", "host unreachable", ...).
Result<std::size_t> check_reply_head(std::array<std::uint8_t, 5> head);
/// RFC 1928's text for a reply code.
const char* reply_text(std::uint8_t rep) noexcept;

/// Called once: default Error on success (the socket is then a tunnel to
/// host:port), else the failure. Socket errors during the exchange are
/// proxy_unreachable, except operation_aborted (the socket was closed
/// under it: the caller gave up), passed through.
using Handler = std::function<void(Error)>;
/// Runs the handshake on `socket` (connected to `proxy`), which must
/// outlive it. No timeout of its own: the caller closes the socket.
void async_handshake(boost::asio::ip::tcp::socket& socket, const ProxyUrl& proxy, std::string host,
                     std::uint16_t port, Handler done);

}  // namespace rebound::net::socks5
