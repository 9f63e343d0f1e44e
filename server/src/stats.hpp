// Server-side counters (connections, requests by method and path) behind
// one mutex. Sessions record; Server::stats() takes a copy.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "rebound/server/append_log.hpp"
#include "rebound/server/server.hpp"

namespace rebound::server::detail {

enum class WireProtocol { http1, http2 };

class StatsCollector {
 public:
  void on_connection_accepted();
  void on_protocol_chosen(WireProtocol protocol);
  /// Called once per request, just before its handler runs; appends it to
  /// the request log when one is open.
  void on_request(const ServerRequest& request);
  /// Opens (appending) the request log; throws std::system_error.
  void open_request_log(const std::string& path);

  ServerStats snapshot() const;
  void reset();

 private:
  mutable std::mutex mutex_;
  ServerStats totals_;  // the maps in totals_ stay empty; see below
  // Transparent comparators let the hot path look up string_views without
  // building a std::string per request.
  std::map<std::string, std::uint64_t, std::less<>> by_method_;
  std::map<std::string, std::uint64_t, std::less<>> by_path_;
  std::optional<AppendLog> request_log_;
};

}  // namespace rebound::server::detail
