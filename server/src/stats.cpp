// StatsCollector: see stats.hpp.
#include "stats.hpp"

#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

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
  if (request_log_fd_ >= 0) {
    std::string id = request.header("x-request-id");
    std::string line = request.method + " " + request.target + " " + (id.empty() ? "-" : id) + "\n";
    // One write per line: lines never interleave, and a SIGKILL cannot lose
    // a line whose write returned (it is in the page cache).
    [[maybe_unused]] const auto n = ::write(request_log_fd_, line.data(), line.size());
  }
}

void StatsCollector::open_request_log(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (request_log_fd_ >= 0) return;
  request_log_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (request_log_fd_ < 0) throw std::system_error(errno, std::generic_category(), "request log " + path);
}

StatsCollector::~StatsCollector() {
  if (request_log_fd_ >= 0) ::close(request_log_fd_);
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
