// EventTrace: the ring and the retry attribution.
#include <rebound/soak/event_trace.hpp>

#include <cctype>
#include <cstdio>

namespace rebound::soak {

EventTrace::EventTrace(std::chrono::steady_clock::time_point t0, OnRetry on_retry, OnOverlap on_overlap)
    : t0_(t0), on_retry_(std::move(on_retry)), on_overlap_(std::move(on_overlap)) {}

EventHook EventTrace::hook() {
  return [this](const Event& e) { on_event(e); };
}

void EventTrace::on_event(const Event& e) {
  char when[32];
  std::snprintf(when, sizeof when, "%.3fs",
                std::chrono::duration<double>(e.time - t0_).count());
  std::string line = std::string(when) + " " + to_string(e.kind);
  if (e.connection) line += " conn#" + std::to_string(e.connection);
  if (e.error) line += " [" + error_kind(e.error) + "]";
  line += " " + e.detail;
  const auto id = request_id(e.detail);
  bool overlap = false;
  if (id) {
    std::lock_guard lock(mutex_);
    switch (e.kind) {
      case EventKind::request_start: overlap = !attempt_running_.insert(*id).second; break;
      case EventKind::retry:
      case EventKind::request_done: attempt_running_.erase(*id); break;
      default: break;
    }
  }
  if (overlap && on_overlap_) on_overlap_(*id, line);
  if (e.kind == EventKind::retry && on_retry_ && id) {
    if (const auto failed_at = progress_named(e.detail)) on_retry_(*id, *failed_at, line);
  }
  std::lock_guard lock(mutex_);
  ring_.push_back(std::move(line));
  if (ring_.size() > capacity) ring_.pop_front();
}

std::vector<std::string> EventTrace::about(std::uint64_t id) const {
  std::vector<std::string> out;
  std::lock_guard lock(mutex_);
  for (const auto& line : ring_)
    if (request_id(line) == id) out.push_back(line);
  return out;
}

std::vector<std::string> EventTrace::recent(std::size_t n) const {
  std::lock_guard lock(mutex_);
  const std::size_t from = ring_.size() > n ? ring_.size() - n : 0;
  return {ring_.begin() + static_cast<std::ptrdiff_t>(from), ring_.end()};
}

std::optional<std::uint64_t> EventTrace::request_id(const std::string& text) {
  const auto at = text.find("rid=");
  if (at == std::string::npos) return std::nullopt;
  std::uint64_t id = 0;
  std::size_t i = at + 4;
  if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) id = id * 10 + (text[i] - '0');
  return id;
}

std::optional<progress> EventTrace::progress_named(const std::string& text) {
  const auto open = text.rfind('[');
  if (open == std::string::npos) return std::nullopt;
  const std::string_view rest = std::string_view(text).substr(open + 1);
  for (progress p : {progress::not_sent, progress::refused, progress::sent, progress::response_started}) {
    const std::string_view name = to_string(p);
    if (rest.substr(0, name.size()) == name &&
        (rest.size() == name.size() || rest[name.size()] == ']' || rest[name.size()] == ','))
      return p;
  }
  return std::nullopt;
}

}  // namespace rebound::soak
