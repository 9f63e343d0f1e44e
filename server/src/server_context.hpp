// What every connection shares with its Server: options, routes, fault
// switches, counters, the live-connection registry and the TLS context.
// Owned by Server::Impl; it outlives every I/O thread and connection, so
// sessions keep a plain reference to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "connection_registry.hpp"
#include "faults.hpp"
#include "rebound/server/server.hpp"
#include "router.hpp"
#include "stats.hpp"

namespace rebound::server::detail {

/// Request bodies larger than this are refused (HTTP/1.1: 413, HTTP/2: RST).
inline constexpr std::size_t kMaxRequestBody = std::size_t{256} << 20;

struct ServerContext {
  explicit ServerContext(ServerOptions opts) : options(std::move(opts)) {}

  const ServerOptions options;
  Router router;
  Faults faults;
  StatsCollector stats;
  ConnectionRegistry registry;
  /// Set before the first start() when options.tls; null for plain TCP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::atomic<std::uint64_t> next_connection_id{1};
};

}  // namespace rebound::server::detail
