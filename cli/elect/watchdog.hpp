// The watchdog: the process that runs `rebound elect`'s command and alone
// may signal it. elect forks it before starting any thread; it sits in a
// process group of its own and ignores the terminal's and job control's
// signals, so a Ctrl-Z, a SIGSTOP or a SIGKILL of elect leaves it running
// and holding the bound:
//
//   * it forks the command for a term (an epoch), which joins the
//     containment (containment.hpp) before exec;
//   * it keeps the term's leadership bound (CLOCK_BOOTTIME, which counts
//     through a suspend), extended by elect at each renewal, with a timer
//     of its own: at the bound the command gets SIGTERM;
//   * SIGKILL follows `grace` after the SIGTERM, and never later than the
//     bound + `kill_bound` (the safety margin less the slack), whatever the
//     grace: by then others may take the lease over;
//   * when the order pipe closes (elect exited, or died however), the
//     command is stopped the same way and the watchdog exits.
//
// It reports each step over the report pipe (fence_protocol.hpp).
#pragma once

#include "elect/containment.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace rebound::cli::elect {

struct WatchdogConfig {
  std::vector<std::string> argv;  ///< the command
  bool stdout_to_stderr = false;  ///< its standard output goes to our standard error
  std::chrono::milliseconds grace{0};       ///< SIGTERM to SIGKILL
  std::chrono::milliseconds kill_bound{0};  ///< SIGKILL at the latest this long after the bound
  ContainmentChoice containment = ContainmentChoice::automatic;
};

/// Runs the watchdog in the calling process, a child of elect forked for
/// it, reading orders from `orders` and writing reports to `reports`; ends
/// the process when elect is gone and the command with it.
[[noreturn]] void run_watchdog(const WatchdogConfig& config, int orders, int reports);

}  // namespace rebound::cli::elect
