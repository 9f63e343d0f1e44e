// Echo server, deadline-bounded client and polling helpers for the proxy tests.
#include "test_support.hpp"

#include "support/tcp_queues.hpp"

#include <poll.h>

#include <array>

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

namespace rebound::proxy::test {

// ---- EchoServer -----------------------------------------------------------

struct EchoServer::Connection : std::enable_shared_from_this<EchoServer::Connection> {
  Connection(EchoServer& server, tcp::socket socket) : server(server), socket(std::move(socket)) {}

  void read() {
    socket.async_read_some(boost::asio::buffer(buffer), [self = shared_from_this()](auto ec, std::size_t n) {
      if (ec) {
        self->end();
        return;
      }
      self->server.bytes_received_ += n;
      boost::asio::async_write(self->socket, boost::asio::buffer(self->buffer.data(), n),
                               [self](auto write_ec, std::size_t) {
                                 if (write_ec) {
                                   self->end();
                                   return;
                                 }
                                 self->read();
                               });
    });
  }

  void end() {
    boost::system::error_code ignored;
    socket.close(ignored);
    ++server.ended_;
  }

  EchoServer& server;
  tcp::socket socket;
  std::array<char, 8192> buffer{};
};

EchoServer::EchoServer() : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
}

EchoServer::~EchoServer() {
  io_.stop();
  thread_.join();
}

void EchoServer::accept_next() {
  acceptor_.async_accept([this](auto ec, tcp::socket socket) {
    if (ec) return;
    ++accepted_;
    std::make_shared<Connection>(*this, std::move(socket))->read();
    accept_next();
  });
}

// ---- Client ---------------------------------------------------------------

bool ReadResult::reset_or_eof() const {
  return error == boost::asio::error::connection_reset || error == boost::asio::error::eof;
}

Client::Client(std::uint16_t port) : socket_(io_) {
  socket_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  socket_.set_option(tcp::no_delay(true));
}

boost::system::error_code Client::write(const std::string& data) {
  boost::system::error_code ec;
  boost::asio::write(socket_, boost::asio::buffer(data), ec);
  return ec;
}

ReadResult Client::read_exactly(std::size_t n, std::chrono::milliseconds timeout) {
  ReadResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (r.data.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) {
      r.timed_out = true;
      return r;
    }
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      r.timed_out = true;
      return r;
    }
    std::array<char, 16384> buf;
    const std::size_t want = std::min(buf.size(), n - r.data.size());
    const std::size_t got = socket_.read_some(boost::asio::buffer(buf.data(), want), r.error);
    if (r.error) return r;
    r.data.append(buf.data(), got);
  }
  return r;
}

ReadResult Client::read_some(std::chrono::milliseconds timeout) {
  ReadResult r;
  pollfd p{socket_.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) == 0) {
    r.timed_out = true;
    return r;
  }
  std::array<char, 16384> buf;
  const std::size_t got = socket_.read_some(boost::asio::buffer(buf), r.error);
  r.data.assign(buf.data(), got);
  return r;
}

ReadResult Client::round_trip(const std::string& message, std::chrono::milliseconds timeout) {
  ReadResult r;
  r.error = write(message);
  if (r.error) return r;
  return read_exactly(message.size(), timeout);
}

void Client::shutdown_send() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void Client::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

// ---- misc -----------------------------------------------------------------

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

bool holds_for(const std::function<bool()>& condition, std::chrono::milliseconds window) {
  const auto end = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < end) {
    if (!condition()) return false;
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

bool proxy_has_read_all(std::uint16_t proxy_port, const Client& client) {
  return rebound::testing::wait_until_read(proxy_port, client.local_port());
}

std::uint16_t unused_port() {
  boost::asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

}  // namespace rebound::proxy::test
