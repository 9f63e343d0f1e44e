// Listener: see listener.hpp.
#include "listener.hpp"

#include <stdexcept>

#include <boost/asio/post.hpp>

#include "protocol_detect.hpp"

namespace rebound::server::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Listener::Listener(ServerContext& ctx, IoPool& pool) : ctx_(ctx), pool_(pool), acceptor_(pool.primary()) {}

std::uint16_t Listener::open(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("server: bad host address '" + host + "': " + ec.message());
  const tcp::endpoint endpoint(address, port);
  const auto fail = [&](const char* step) {
    throw std::runtime_error(std::string("server: ") + step + " " + endpoint.address().to_string() + ":" +
                             std::to_string(port) + ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail("SO_REUSEADDR");
  acceptor_.bind(endpoint, ec);
  if (ec) fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
  return acceptor_.local_endpoint().port();
}

void Listener::start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept_next(); });
}

void Listener::close() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::accept_next() {
  if (!acceptor_.is_open()) return;
  // The new socket belongs to the next context in the pool from the start.
  acceptor_.async_accept(pool_.next_executor(), [self = shared_from_this()](boost::system::error_code ec,
                                                                            tcp::socket socket) {
    if (!self->acceptor_.is_open()) return;  // closed by stop() or kill()
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      self->ctx_.stats.on_connection_accepted();
      const std::uint64_t id = self->ctx_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
      auto executor = socket.get_executor();
      asio::post(executor, [&ctx = self->ctx_, id, socket = std::move(socket)]() mutable {
        serve_connection(ctx, std::move(socket), id);
      });
    }
    // Accept errors (EMFILE, ECONNABORTED) are per-connection: keep accepting.
    self->accept_next();
  });
}

}  // namespace rebound::server::detail
