// Accepting connections and handing them to sessions (or resetting them).
#include "listener.hpp"

#include <memory>
#include <optional>

#include <boost/asio/error.hpp>

#include "session.hpp"
#include "socket_reset.hpp"

namespace rebound::proxy::detail {

using tcp = boost::asio::ip::tcp;

Listener::Listener(ProxyContext& ctx) : ctx_(ctx), acceptor_(ctx.io), retry_(ctx.io) {}

std::uint16_t Listener::open(const std::string& host, std::uint16_t port) {
  const tcp::endpoint endpoint(boost::asio::ip::make_address(host), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  return acceptor_.local_endpoint().port();
}

void Listener::start() { accept_next(); }

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void Listener::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Listener::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Usually out of descriptors: retrying at once would spin.
    retry_.expires_after(std::chrono::milliseconds(50));
    retry_.async_wait([this](const boost::system::error_code& wait_ec) {
      if (!wait_ec) accept_next();
    });
    return;
  }
  ctx_.counters.accepted.fetch_add(1, std::memory_order_relaxed);
  switch (ctx_.mode) {
    case Mode::reset:
      reset_close(socket);
      break;
    case Mode::pass:
    case Mode::blackhole: {
      std::optional<std::uint64_t> budget;
      if (ctx_.cut_after_bytes != 0) budget = ctx_.cut_after_bytes;
      std::make_shared<Session>(ctx_, std::move(socket), budget)->start();
      break;
    }
  }
  accept_next();
}

}  // namespace rebound::proxy::detail
