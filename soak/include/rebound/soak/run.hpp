// The soak's entry point: what a run is given, and the run itself.
// `rebound soak` parses its flags into Settings; tests may call run() too.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rebound::soak {

struct Settings {
  std::uint64_t seed = 0;                     ///< of the fault schedule and the request mix
  std::chrono::milliseconds length{60'000};   ///< how long faults and traffic run (at least 5 s)
  std::string duration_text = "60s";          ///< the same as given, for the report and the replay line
  unsigned clients = 8;                       ///< concurrent Clients (at least 1)
  unsigned depth = 3;                         ///< requests each keeps in flight
  std::chrono::milliseconds grace{2000};      ///< how far past its deadline a request may complete
  std::chrono::milliseconds progress{10'000}; ///< how often a progress line is printed
  bool json = false;            ///< the summary as one JSON object on stdout (progress on stderr)
  bool keep_going = false;      ///< count every violation instead of stopping at the first
  bool print_schedule = false;  ///< list every scheduled fault first
  std::vector<std::string> expect;  ///< invariants a known defect breaks every run (names from checks.hpp)
  std::vector<std::string> known;   ///< invariants a known defect breaks in some runs
};

/// Runs the soak; prints progress and the summary. Returns the exit status:
/// 0 no invariant violated (but each expected one), 1 a violation or an
/// expected one missing, 3 the harness failed (the run says nothing).
int run(const Settings& settings);

}  // namespace rebound::soak
