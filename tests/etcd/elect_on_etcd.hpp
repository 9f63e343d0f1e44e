// `rebound elect --etcd` as real processes for tests: each candidate runs
// tick_worker (ignoring SIGTERM, so only the watchdog's SIGKILL after the
// grace stops it) under subreaper containment, and prints one JSON event
// per line, read back with the time each line arrived.
//
// Timings: leases of 2 s (etcd's minimum for this cluster's 1 s election
// timeout is 1.5 s, granted as 2), a 1 s renew deadline, so a 1 s safety
// margin and a 500 ms grace for the command, attempts every 200 ms.
#pragma once

#include "tests/cli/line_process.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rebound::testing {

struct ElectTimings {
  static constexpr std::chrono::milliseconds lease{2000};
  static constexpr std::chrono::milliseconds renew_deadline{1000};
  static constexpr std::chrono::milliseconds retry_period{200};
  static constexpr std::chrono::milliseconds grace{500};  ///< elect's default: min(5 s, margin - 500 ms)
  static constexpr double jitter = 1.2;                   ///< the elector's default jitter factor
};

/// Starts `rebound elect --etcd URLS --lease KEY --identity ID` whose
/// command is `tick_worker RECORD ID --ignore-term`.
std::unique_ptr<LineProcess> start_elect(const std::vector<std::string>& urls, const std::string& key,
                                         const std::string& identity, const std::string& record);

/// One JSON event line of elect's output.
struct ElectLine {
  std::chrono::steady_clock::time_point at;  ///< when the line arrived
  std::string event;                         ///< "acquired", "renewed", "lost", "command_started"...
  /// acquired, renewed: the leadership bound, as the line's arrival time +
  /// valid_for_ms - a little later than the elector's own bound.
  std::optional<std::chrono::steady_clock::time_point> valid_until;
  std::optional<long long> term;  ///< command_*: the command's term (epoch)
};
std::vector<ElectLine> elect_lines(const LineProcess& p);
/// Every line as it came, for failure messages.
std::string all_lines(const LineProcess& p);

}  // namespace rebound::testing
