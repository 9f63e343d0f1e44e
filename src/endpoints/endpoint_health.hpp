// The endpoint group's decisions, with time passed in and no I/O: each
// endpoint's health as one state machine (EndpointHealth::on, the only
// place its state changes), what an attempt's error says about its
// endpoint (signal_of), and which endpoint the next attempt takes
// (EndpointTable::pick: probes first, then round robin over the healthy,
// then the skipped one whose backoff ends first).
#pragma once

#include <rebound/endpoint_group.hpp>
#include <rebound/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rebound::endpoints {

using Clock = std::chrono::steady_clock;

/// What happened to an endpoint, as its state machine's input.
enum class Signal : std::uint8_t {
  answered,     ///< an attempt got a response (any status)
  failed,       ///< an attempt failed to dial, lost its connection, was refused; a GOAWAY; the caller's report
  no_verdict,   ///< the attempt ended for a reason that says nothing about the endpoint
  probe_sent,   ///< an attempt went to it while skipped (its backoff over, or forced)
};

/// What an attempt's error says about the endpoint it went to.
Signal signal_of(const error_code& code) noexcept;

/// Skip backoff: retry::backoff_delay(failures, base, max, random01).
struct SkipBackoff {
  std::chrono::milliseconds base;
  std::chrono::milliseconds max;
};

/// One endpoint's health. Attempts started before the endpoint's latest
/// change of state say nothing about it now: a request that was in flight
/// when it was skipped and fails later does not lengthen the backoff, and
/// one that ends well does not end it (a GOAWAY lets in-flight streams
/// finish).
class EndpointHealth {
 public:
  EndpointState state() const noexcept { return state_; }
  int failures() const noexcept { return failures_; }
  Clock::time_point skipped_until() const noexcept { return until_; }
  bool backoff_over(Clock::time_point now) const noexcept { return state_ == EndpointState::skipped && now >= until_; }

  /// The transition function. `attempt_started`: when the attempt the
  /// signal comes from started (now for GOAWAYs, reports, probes).
  /// Returns the previous state.
  EndpointState on(Signal s, Clock::time_point now, Clock::time_point attempt_started, const SkipBackoff& backoff,
                   double random01);

 private:
  void skip(Clock::time_point now, const SkipBackoff& backoff, double random01);
  EndpointState state_ = EndpointState::healthy;
  int failures_ = 0;
  Clock::time_point since_{};  // when state_ was entered
  Clock::time_point until_{};  // skipped: when the backoff ends
};

/// Every endpoint's health and the round-robin cursor.
class EndpointTable {
 public:
  explicit EndpointTable(std::size_t endpoints) : health_(endpoints) {}

  struct Pick {
    std::size_t index = 0;
    bool probe = false;  ///< sent while skipped: a probe (its backoff over, or every endpoint skipped)
  };
  /// The endpoint for the next attempt among those `tried` does not mark:
  /// a skipped one whose backoff is over (the earliest), else the next
  /// healthy one in turn, else the skipped one whose backoff ends first.
  /// else one being probed; nullopt when every endpoint was tried.
  /// A probe pick is applied (skipped -> probing) before it returns.
  std::optional<Pick> pick(Clock::time_point now, const std::vector<bool>& tried, const SkipBackoff& backoff,
                           double random01);

  EndpointHealth& at(std::size_t i) { return health_.at(i); }
  const EndpointHealth& at(std::size_t i) const { return health_.at(i); }
  std::size_t size() const noexcept { return health_.size(); }

 private:
  std::vector<EndpointHealth> health_;
  std::size_t next_ = 0;  // round robin: where the next healthy search starts
};

}  // namespace rebound::endpoints
