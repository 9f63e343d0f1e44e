// Shared helpers for client integration tests: start the embedded server,
// client options that trust its certificate, and a free port nobody listens on.
#pragma once

#include <rebound/rebound.hpp>
#include <rebound/server/server.hpp>

#include "integration/checked_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <dirent.h>
#include <memory>
#include <thread>

namespace rebound::testing {

inline std::unique_ptr<server::Server> start_server(server::ServerOptions o = {}) {
  auto s = std::make_unique<server::Server>(std::move(o));
  s->start();
  return s;
}

inline Options trusting(const server::Server& s, Options o = {}) {
  o.tls.ca_file = s.certificate_file();
  return o;
}

/// A loopback port with no listener (bound, read back, closed).
inline std::uint16_t unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

/// File descriptors this process has open (for fd-baseline checks).
inline std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

/// Polls `condition` until it holds or `timeout` passes; whether it held.
/// For waiting on something observable instead of sleeping a guess.
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline auto elapsed_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

}  // namespace rebound::testing
