// One client's recent events (its Options::on_event), kept in a ring for
// a violation's context, and its retries and attempts attributed to the
// requests they belong to: an event names the request by its URL, which
// carries ?rid=ID, and a retry's cause ends with the failed attempt's
// progress. An attempt starts only after the one before it ended (with a
// retry), so two request_start events of one request with no retry between
// them are two attempts at once. Thread-safe.
#pragma once

#include <rebound/events.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rebound::soak {

class EventTrace {
 public:
  /// Called (on the client's I/O thread) for each retry: request id and
  /// how far the failed attempt got.
  using OnRetry = std::function<void(std::uint64_t id, progress failed_at, const std::string& detail)>;
  /// Called (on the client's I/O thread) when request `id` starts an
  /// attempt while its previous one has not ended.
  using OnOverlap = std::function<void(std::uint64_t id, const std::string& detail)>;
  EventTrace(std::chrono::steady_clock::time_point t0, OnRetry on_retry, OnOverlap on_overlap = {});

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
  OnOverlap on_overlap_;
  mutable std::mutex mutex_;
  std::deque<std::string> ring_;
  std::set<std::uint64_t> attempt_running_;  // requests whose last event was a request_start
};

}  // namespace rebound::soak
