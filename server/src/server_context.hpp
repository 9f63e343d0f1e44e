// What every connection shares with its Server: options, routes, fault
// switches, counters, the live-connection registry and the TLS context.
// Owned by Server::Impl; it outlives every I/O thread and connection, so
// sessions keep a plain reference to it.
#pragma once

#include <string>

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "authenticator.hpp"
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

  /// The answer to a request: 401 when it fails authentication (see
  /// authenticator.hpp; sets request.user), a busy answer while the busy
  /// fault lasts (like a server's priority-and-fairness shedding load, which
  /// comes after authentication), else the route's. `peer_cn`: the verified
  /// client certificate's CN, or "".
  ServerResponse answer(ServerRequest& request, const std::string& peer_cn = {}) {
    if (auto refused = authenticate(options, request, peer_cn)) return std::move(*refused);
    if (auto busy = faults.claim_busy()) {
      ServerResponse r;
      r.status = busy->status;
      r.headers.emplace_back("retry-after", std::to_string(busy->retry_after_seconds));
      r.headers.emplace_back("content-type", "text/plain");
      r.body = "busy: retry after " + std::to_string(busy->retry_after_seconds) + " s\n";
      return r;
    }
    return router.dispatch(request);
  }
};

}  // namespace rebound::server::detail
