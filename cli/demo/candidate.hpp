// One candidate of `rebound demo` followed through its ElectionEvents:
// each event into the timeline, and its leadership state (terms, renewals,
// failures) for the verdict and for the demo's waits. Shared by the Lease
// and the etcd stories. Thread-safe: events come from the elector's
// callback thread, waits from the demo's.
#pragma once

#include "demo/timeline.hpp"

#include <rebound/election/leader_elector.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rebound::cli::demo {

struct Candidate {
  Candidate(std::string n, bool verbose) : name(std::move(n)), verbose_(verbose) {}
  std::string name;
  bool verbose_ = false;
  std::mutex mutex;
  std::condition_variable changed;
  bool leading = false;
  int acquisitions = 0, losses = 0, renewals = 0, failures = 0, found_held = 0;
  std::vector<std::pair<double, double>> terms;  // [start, end) of each leadership term
  std::optional<double> last_renewal;

  void on_event(Timeline& tl, const lease::ElectionEvent& e);

  bool wait_leading(bool want, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return leading == want; });
  }
  int renewals_so_far() {
    std::lock_guard lock(mutex);
    return renewals;
  }
  /// Until `n` more renewals than `since` have come (false: not within `limit`).
  bool wait_renewals(int since, int n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return renewals >= since + n; });
  }
  /// Until this candidate has found the lease held by another.
  bool wait_found_held(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return found_held > 0; });
  }
};


}  // namespace rebound::cli::demo
