// Where every broken invariant is reported: counts per invariant, and the
// first violation of each kept whole (when, which request, what was seen,
// and the context to debug it: the faults around it, the client's events,
// the pools). Invariants a known, reported defect breaks are counted apart:
// they do not stop the soak or fail it; those named as expected must be
// seen (the run fails without them), those named as known may be.
// Unless told to keep going, the first unexpected violation asks the soak
// to stop issuing requests. Thread-safe.
#pragma once

#include <rebound/soak/checks.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rebound::soak {

class Monitor {
 public:
  struct Violation {
    double at_s = 0;        ///< seconds since the soak started
    Finding finding;
    std::string subject;    ///< the request (or resource) concerned
    std::string context;    ///< multi-line: faults, events, pools
  };

  Monitor(std::chrono::steady_clock::time_point t0, bool keep_going, std::set<std::string> expected,
          std::set<std::string> known)
      : t0_(t0), keep_going_(keep_going), expected_(std::move(expected)), known_(std::move(known)) {}

  /// `context` is only built for an invariant's first violation (it can be costly).
  template <class MakeContext>
  void report(Finding f, std::string subject, MakeContext make_context) {
    if (note(f)) keep_first(std::move(f), std::move(subject), make_context());
  }
  void report(Finding f, std::string subject) {
    report(std::move(f), std::move(subject), [] { return std::string(); });
  }

  /// True once an unexpected violation was seen and the soak should wind down.
  bool stop_requested() const { return unexpected_ > 0 && !keep_going_; }
  std::uint64_t total() const { return total_; }
  std::uint64_t unexpected() const { return unexpected_; }
  const std::set<std::string>& expected() const { return expected_; }
  const std::set<std::string>& known() const { return known_; }
  /// Expected or known: a violation of it does not fail the run.
  bool excused(const std::string& invariant) const { return expected_.count(invariant) || known_.count(invariant); }
  /// Expected invariants that were never violated.
  std::vector<std::string> expected_missing() const;
  /// The first violation of each invariant, in the order they happened.
  std::vector<Violation> firsts() const;
  std::map<std::string, std::uint64_t> counts() const;

 private:
  /// Counts `f`; true when it is its invariant's first violation.
  bool note(const Finding& f);
  void keep_first(Finding f, std::string subject, std::string context);

  std::chrono::steady_clock::time_point t0_;
  bool keep_going_;
  std::set<std::string> expected_, known_;
  std::atomic<std::uint64_t> total_{0}, unexpected_{0};
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> counts_;
  std::vector<Violation> firsts_;
};

}  // namespace rebound::soak
