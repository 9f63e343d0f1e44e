// Which etcd member an elector's client talks to, read from the client's
// own events (Options::on_event): where each request was started, which
// ones were answered, and which connections were closed and why. The
// elector has one client for all its members, each member an origin, so
// the origins of its requests are the members it talks to.
//
// Thread safety: the hook runs on the client's I/O thread; every member
// may be called from any thread.
#pragma once

#include <rebound/events.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace rebound::testing {

class RequestOrigins {
 public:
  using Clock = std::chrono::steady_clock;

  /// For LeaderElectionConfig::client_options.on_event.
  rebound::EventHook hook() {
    return [this](const rebound::Event& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
    };
  }

  /// The origin of the last request started ("" before any).
  std::string last_started() const {
    std::lock_guard lock(mutex_);
    for (auto it = events_.rbegin(); it != events_.rend(); ++it)
      if (it->kind == rebound::EventKind::request_start) return it->origin;
    return {};
  }

  /// Requests answered (request_done without an error) after `t` by an
  /// origin other than `excluded`.
  int answered_since(Clock::time_point t, const std::string& excluded) const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& e : events_)
      if (e.kind == rebound::EventKind::request_done && !e.error && e.time > t && e.origin != excluded) ++n;
    return n;
  }

  /// Connections to `origin` closed after `t` with `why`.
  int closed_since(Clock::time_point t, const std::string& origin, rebound::errc why) const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& e : events_)
      if (e.kind == rebound::EventKind::connection_closed && e.time > t && e.origin == origin &&
          e.error == rebound::make_error_code(why))
        ++n;
    return n;
  }

  /// The connection events of `origin` after `t`, one per line, for messages.
  std::string describe(Clock::time_point t, const std::string& origin) const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& e : events_)
      if (e.time > t && e.origin == origin)
        out += std::string(rebound::to_string(e.kind)) + " #" + std::to_string(e.connection) + " " +
               (e.error ? e.error.message() : "") + " " + e.detail + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<rebound::Event> events_;
};

}  // namespace rebound::testing
