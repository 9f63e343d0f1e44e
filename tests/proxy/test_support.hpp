// Helpers for the proxy tests: an echo server on its own thread that counts
// what reaches it, a blocking client whose every read has a deadline,
// polling for a condition with an overall deadline (or for one that must
// keep holding), and the fixture that puts a proxy in front of an echo
// server and checks the file-descriptor baseline after both are gone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "integration/fixtures.hpp"  // open_fds()
#include "rebound/proxy/fault_proxy.hpp"

namespace rebound::proxy::test {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

/// Echoes every byte back; closes its side after the client's FIN.
class EchoServer {
 public:
  EchoServer();
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t accepted() const { return accepted_.load(); }
  std::uint64_t bytes_received() const { return bytes_received_.load(); }
  /// Connections that ended (FIN, RST or error) on the server's side.
  std::uint64_t ended() const { return ended_.load(); }

 private:
  struct Connection;
  void accept_next();

  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> bytes_received_{0};
  std::atomic<std::uint64_t> ended_{0};
  std::thread thread_;
};

/// What a bounded read saw.
struct ReadResult {
  std::string data;
  boost::system::error_code error;  ///< eof, connection_reset, ... (empty: none)
  bool timed_out = false;           ///< the deadline passed with the socket still open

  bool reset_or_eof() const;
};

/// A blocking client socket on 127.0.0.1 with deadline-bounded reads.
class Client {
 public:
  /// Connects (blocking; loopback answers at once). Throws on failure.
  explicit Client(std::uint16_t port);

  /// Blocking write of all of `data`; returns the error, if any.
  boost::system::error_code write(const std::string& data);
  /// Reads until `n` bytes arrived, the stream ends or fails, or `timeout`.
  ReadResult read_exactly(std::size_t n, std::chrono::milliseconds timeout);
  /// Waits up to `timeout` for anything: data, EOF or an error.
  ReadResult read_some(std::chrono::milliseconds timeout);
  /// Sends `message` and reads the same number of bytes back.
  ReadResult round_trip(const std::string& message, std::chrono::milliseconds timeout = 10000ms);
  void shutdown_send();
  void close();
  tcp::socket& socket() { return socket_; }
  /// This end's port: with the proxy's port it names the connection in
  /// /proc/net/tcp (see tests/support/tcp_queues.hpp).
  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }

 private:
  boost::asio::io_context io_;
  tcp::socket socket_;
};

/// Polls `condition` every 10 ms until it holds or `timeout` passes. The
/// default is generous: the machine is shared, and a condition that holds
/// returns at once anyway.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10000ms);

/// Polls `condition` every few ms for `window`; false as soon as it fails.
/// For what must NOT happen (a byte forwarded, a close passed on), which can
/// only be watched for a while: on loopback a wrong forward shows within a
/// millisecond, so a short window misses nothing and cannot fail spuriously.
bool holds_for(const std::function<bool()>& condition, std::chrono::milliseconds window);

/// Waits until the proxy has read everything `client` wrote to it (the
/// kernel's receive queue of the proxy's socket is empty): the next write
/// is then a separate chunk for the proxy, not one it could coalesce.
bool proxy_has_read_all(std::uint16_t proxy_port, const Client& client);

/// A port on 127.0.0.1 with nothing listening (bound, read back, closed).
std::uint16_t unused_port();

/// An echo server with a started proxy in front of it. After each test
/// (whose clients are gone by then) the proxy and the echo server are
/// destroyed and the process must hold exactly the file descriptors it held
/// before them: a socket that a fault path forgot to close shows here.
class ProxyTest : public ::testing::Test {
 protected:
  ProxyTest() { proxy.start(); }

  void TearDown() override {
    proxy_.reset();
    echo_.reset();
    EXPECT_EQ(rebound::testing::open_fds(), fds_before_) << "file descriptors left behind";
  }

 private:
  const std::size_t fds_before_ = rebound::testing::open_fds();
  std::optional<EchoServer> echo_{std::in_place};
  std::optional<FaultProxy> proxy_{std::in_place, ProxyOptions{.target_port = echo_->port()}};

 protected:
  EchoServer& echo = *echo_;
  FaultProxy& proxy = *proxy_;
};

/// `n` bytes of a recognisable, position-dependent pattern.
std::string pattern(std::size_t n);

}  // namespace rebound::proxy::test
