// The soak's figures and verdict, gathered in one Summary and printed as
// text or as one JSON object.
#pragma once

#include <rebound/soak/monitor.hpp>
#include <rebound/soak/tally.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace rebound::soak {

struct Resources {
  std::size_t fds_before = 0, fds_after = 0, fds_peak = 0;
  std::uint64_t rss_before = 0, rss_after = 0, rss_peak = 0;
  std::uint64_t rss_anon_before = 0, rss_anon_after = 0;  ///< the anonymous part (heap, stacks)
  std::uint64_t heap_before = 0, heap_after = 0;  ///< 0 under ASan
  std::int64_t idle_cpu_us = 0;                   ///< this process, over idle_window
  std::int64_t idle_children_cpu_us = 0;          ///< the child servers, together
  std::int64_t idle_window_us = 0;
  std::string busiest_idle_thread;                ///< "name (tid): N us"
};

struct Summary {
  std::uint64_t seed = 0;
  std::string duration;    ///< as given
  unsigned clients = 0;
  double elapsed_s = 0;
  std::uint64_t fingerprint = 0;
  std::size_t actions = 0;
  std::map<std::string, std::uint64_t> planned;   ///< faults in the schedule, by kind
  std::map<std::string, std::uint64_t> injected;  ///< faults carried out, by kind
  Tally::Table requests;
  std::uint64_t requests_total = 0, requests_ok = 0;
  std::uint64_t retries = 0, dials = 0, dial_failures = 0, completions_dropped = 0;
  std::uint64_t log_lines = 0, unknown_log_lines = 0;
  Resources resources;
  std::map<std::string, std::uint64_t> violations;   ///< by invariant
  std::uint64_t violations_total = 0, violations_unexpected = 0;
  std::set<std::string> expected;                    ///< --expect-violation: must be violated
  std::set<std::string> known;                       ///< --known-defect: may be violated
  std::vector<std::string> expected_missing;
  std::vector<Monitor::Violation> firsts;            ///< the first of each invariant
  std::optional<std::string> harness_error;

  /// 0: every invariant held but the expected ones (which broke) and the
  /// known ones; 1: another violation, or an expected one missing; 3: the
  /// harness failed.
  bool excused(const std::string& invariant) const { return expected.count(invariant) || known.count(invariant); }
  int exit_code() const {
    if (harness_error) return 3;
    return violations_unexpected > 0 || !expected_missing.empty() ? 1 : 0;
  }
};

void print_text(std::ostream& out, const Summary& s);
void print_json(std::ostream& out, const Summary& s);

}  // namespace rebound::soak
