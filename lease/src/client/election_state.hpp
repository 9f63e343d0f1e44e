// The decisions of leader election (client-go's tryAcquireOrRenew and its
// renew deadline), with time passed in: what a candidate has observed of the
// lease and since when, whether it may write, what it writes, and how long
// it waits. No I/O and no clock reads, so unit tests drive it through expiry
// without sleeping.
#pragma once

#include <rebound/lease/lease.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rebound::lease::detail {

using SteadyTime = std::chrono::steady_clock::time_point;

/// The last lease record seen, and when it was first seen in that form.
class Observation {
 public:
  /// Records what a read (or our own write) returned at `now`. The observed
  /// time moves only when the spec changed: a spec that stays the same is a
  /// holder that stopped renewing, and its age is what expiry is measured by.
  void observe(boost::json::object object, const Lease& lease, SteadyTime now);
  /// Forgets the record (the lease was deleted).
  void clear() { *this = Observation{}; }

  bool empty() const noexcept { return empty_; }
  const boost::json::object& object() const noexcept { return object_; }
  const LeaseSpec& spec() const noexcept { return spec_; }
  const std::string& holder() const noexcept { return spec_.holder_identity; }
  const std::string& resource_version() const noexcept { return resource_version_; }
  SteadyTime observed_at() const noexcept { return observed_at_; }

 private:
  bool empty_ = true;
  boost::json::object object_;
  LeaseSpec spec_;
  std::string resource_version_;
  SteadyTime observed_at_{};
};

enum class Verdict {
  write,          ///< ours, free, or expired: update it
  held_by_other,  ///< another holder's lease is still valid: leave it
};

/// When another holder's lease expires for this candidate: observed_at plus
/// the record's leaseDurationSeconds (`fallback` when the record has none).
SteadyTime expiry(const Observation& o, std::chrono::milliseconds fallback);

/// May `identity` write the observed lease at `now`?
Verdict decide(const Observation& o, std::string_view identity, SteadyTime now, std::chrono::milliseconds fallback);

/// The spec to write. `current` is null for a create. Renewing our own lease
/// keeps acquireTime and leaseTransitions; taking one over (from anyone, or
/// from nobody after a release) sets acquireTime and adds a transition.
LeaseSpec next_spec(const LeaseSpec* current, std::string_view identity, MicroTime now,
                    std::int32_t duration_seconds);
/// The release: no holder, leaseDurationSeconds 1, transitions kept (client-go's).
LeaseSpec released_spec(const LeaseSpec& current, MicroTime now);

/// leaseDurationSeconds for a duration: rounded up, at least 1.
std::int32_t whole_seconds_up(std::chrono::milliseconds d);

/// A candidate's wait between attempts: period * (1 + factor * unit), where
/// `unit` is uniform in [0, 1).
std::chrono::milliseconds jittered(std::chrono::milliseconds period, double factor, double unit);

/// The end of a renewal round that starts at `round_start`: renew_deadline
/// later, but never past lease_duration after the last successful renewal
/// was sent (the server applied it no earlier, so no candidate can have
/// started waiting out the lease before then).
SteadyTime renew_round_deadline(SteadyTime round_start, std::chrono::milliseconds renew_deadline,
                                SteadyTime last_success_sent, std::chrono::milliseconds lease_duration);

}  // namespace rebound::lease::detail
