// The listening socket: binds with SO_REUSEADDR (so restart() can take the
// same port back at once), accepts on the pool's primary context, and hands
// each new socket, on its own context, to protocol detection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "io_pool.hpp"
#include "server_context.hpp"

namespace rebound::server::detail {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(ServerContext& ctx, IoPool& pool);

  /// Opens, binds and listens; returns the bound port. Call before the pool
  /// runs. Throws std::runtime_error on failure.
  std::uint16_t open(const std::string& host, std::uint16_t port);
  /// Starts accepting (posted to the listener's context).
  void start();
  /// Closes the listening socket (posted; effective once the context runs it).
  void close();

 private:
  void accept_next();

  ServerContext& ctx_;
  IoPool& pool_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace rebound::server::detail
