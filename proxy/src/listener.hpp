// The proxy's listening socket: binds with SO_REUSEADDR (so a test can
// restart a proxy on a port it remembers), accepts, and decides each new
// connection's fate - reset at once in reset mode, otherwise a Session with
// the byte budget in force at accept time.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy_context.hpp"

namespace rebound::proxy::detail {

class Listener {
 public:
  explicit Listener(ProxyContext& ctx);

  /// Opens, binds and listens; returns the bound port. Throws
  /// boost::system::system_error.
  std::uint16_t open(const std::string& host, std::uint16_t port);
  /// Starts the accept loop; call on the I/O thread or before it runs.
  void start();
  /// Closes the listening socket; call on the I/O thread.
  void close();

 private:
  void accept_next();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

  ProxyContext& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  ///< backs off after an accept error (EMFILE, ...)
};

}  // namespace rebound::proxy::detail
