// One client's recent events (its Options::on_event), kept in a ring for
// a violation's context, and its retries attributed to the requests they
// belong to: an event names the request by its URL, which carries ?rid=ID,
// and a retry's cause ends with the failed attempt's progress. Thread-safe.
#pragma once

#include <rebound/events.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rebound::cli::soak {

class EventTrace {
 public:
  /// Called (on the client's I/O thread) for each retry: request id and
  /// how far the failed attempt got.
  using OnRetry = std::function<void(std::uint64_t id, progress failed_at, const std::string& detail)>;
  EventTrace(std::chrono::steady_clock::time_point t0, OnRetry on_retry);

  /// The hook to install as Options::on_event.
  EventHook hook();
  /// Recent events naming request `id`, oldest first.
  std::vector<std::string> about(std::uint64_t id) const;
  /// The last `n` events.
  std::vector<std::string> recent(std::size_t n) const;

  /// The id in "...?rid=ID..." or nullopt.
  static std::optional<std::uint64_t> request_id(const std::string& text);
  /// The progress named in the last "[...]" of an error message.
  static std::optional<progress> progress_named(const std::string& text);

 private:
  void on_event(const Event& e);
  static constexpr std::size_t capacity = 512;
  std::chrono::steady_clock::time_point t0_;
  OnRetry on_retry_;
  mutable std::mutex mutex_;
  std::deque<std::string> ring_;
};

}  // namespace rebound::cli::soak
