// StatsCollector: see stats.hpp.
#include "stats.hpp"


namespace rebound::server::detail {

namespace {
void bump(std::map<std::string, std::uint64_t, std::less<>>& counts, std::string_view key) {
  auto it = counts.find(key);
  if (it == counts.end()) it = counts.emplace(std::string(key), 0).first;
  ++it->second;
}
}  // namespace

void StatsCollector::on_connection_accepted() {
  std::lock_guard lock(mutex_);
  ++totals_.connections_accepted;
}

void StatsCollector::on_protocol_chosen(WireProtocol protocol) {
  std::lock_guard lock(mutex_);
  switch (protocol) {
    case WireProtocol::http1: ++totals_.h1_connections; break;
    case WireProtocol::http2: ++totals_.h2_connections; break;
  }
}

void StatsCollector::on_request(const ServerRequest& request) {
  std::lock_guard lock(mutex_);
  ++totals_.requests;
  bump(by_method_, request.method);
  bump(by_path_, request.path);
  if (request_log_) {
    const std::string id = request.header("x-request-id");
    request_log_->line(request.method + " " + request.target + " " + (id.empty() ? "-" : id));
  }
}

void StatsCollector::open_request_log(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!request_log_) request_log_.emplace(path);
}

ServerStats StatsCollector::snapshot() const {
  std::lock_guard lock(mutex_);
  ServerStats copy = totals_;
  copy.requests_by_method.insert(by_method_.begin(), by_method_.end());
  copy.requests_by_path.insert(by_path_.begin(), by_path_.end());
  return copy;
}

void StatsCollector::reset() {
  std::lock_guard lock(mutex_);
  totals_ = {};
  by_method_.clear();
  by_path_.clear();
}

}  // namespace rebound::server::detail
