// The decisions of leader election (client-go's tryAcquireOrRenew and its
// renew deadline), with time passed in: what a candidate has observed of the
// lease and since when, whether it may write, what it writes, and how long
// it waits. No I/O and no clock reads, so unit tests drive it through expiry
// without sleeping.
#pragma once

#include <rebound/election/leader_elector.hpp>
#include <rebound/lease/lease.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
  /// We are about to write `spec`: a record carrying it later is ours even
  /// if the write's answer was lost.
  void note_sent(const LeaseSpec& spec) {
    earlier_sent_spec_ = std::exchange(sent_spec_, spec);
  }
  /// The write just noted was refused (409): it never applied, so a record
  /// carrying the spec sent before it is still ours.
  void note_refused() { sent_spec_ = earlier_sent_spec_; }
  /// The record just observed is the answer to our own successful write.
  void note_written() { written_version_ = resource_version_; }
  /// Whether this process wrote the record as last observed: its
  /// resourceVersion is our last write's, or it carries the spec we last
  /// sent. A record naming our identity that we did not write belongs to
  /// another process started with the same identity.
  bool written_by_us() const noexcept {
    if (empty_) return false;
    if (!written_version_.empty() && resource_version_ == written_version_) return true;
    return sent_spec_ && spec_ == *sent_spec_;
  }

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
  std::optional<LeaseSpec> sent_spec_;  // the spec of our latest write, answered or not
  std::optional<LeaseSpec> earlier_sent_spec_;  // the one before it
  std::string written_version_;         // the resourceVersion our latest successful write produced
};

enum class Verdict {
  write,          ///< ours, free, or expired: update it
  held_by_other,  ///< another holder's lease is still valid: leave it
};

/// When another holder's lease expires for this candidate: observed_at plus
/// the record's leaseDurationSeconds (`fallback` when the record has none).
SteadyTime expiry(const Observation& o, std::chrono::milliseconds fallback);

/// Whether the observed lease is ours to renew: it names `identity` and
/// this process wrote it (Observation::written_by_us).
bool ours(const Observation& o, std::string_view identity);

/// May `identity` write the observed lease at `now`? Free, ours, or
/// another's that expired by our clock. A record naming our identity that
/// this process never wrote is another's (two processes given one identity
/// must not both lead).
Verdict decide(const Observation& o, std::string_view identity, SteadyTime now, std::chrono::milliseconds fallback);

/// The spec to write. `current` is null for a create. Renewing our own lease
/// (`renewing`) keeps acquireTime and leaseTransitions; taking one over
/// (from anyone, or from nobody after a release) sets acquireTime and adds
/// a transition.
LeaseSpec next_spec(const LeaseSpec* current, bool renewing, std::string_view identity, MicroTime now,
                    std::int32_t duration_seconds);
/// The release: no holder, leaseDurationSeconds 1, transitions kept (client-go's).
LeaseSpec released_spec(const LeaseSpec& current, MicroTime now);

/// leaseDurationSeconds for a duration: rounded up, at least 1.
std::int32_t whole_seconds_up(std::chrono::milliseconds d);

/// A candidate's wait between attempts: period * (1 + factor * unit), where
/// `unit` is uniform in [0, 1).
std::chrono::milliseconds jittered(std::chrono::milliseconds period, double factor, double unit);

/// How long leadership lasts after a successful write was *sent*: the
/// lease duration less the safety margin. The server applied the write no
/// earlier than it was sent, so no other candidate can have started waiting
/// out the lease before then, and none takes over before lease_duration has
/// passed; the margin is the time the leader has to stop its work first.
std::chrono::milliseconds leadership_span(std::chrono::milliseconds lease_duration,
                                          std::chrono::milliseconds margin);

/// The margin a config asks for: its safety_margin, or lease_duration -
/// renew_deadline when unset (client-go's leader gives up at the renew
/// deadline; the rest of the lease is its margin).
std::chrono::milliseconds safety_margin(const LeaderElectionConfig& cfg);

/// The end of a renewal round that starts at `round_start`: renew_deadline
/// later, but never past `valid_until` (the leadership the last successful
/// write bought).
SteadyTime renew_round_deadline(SteadyTime round_start, std::chrono::milliseconds renew_deadline,
                                SteadyTime valid_until);

/// The elector's client options: the caller's, with health-check timings
/// lowered below the renew deadline (ping_timeout and connect_timeout at
/// most retry_period, read_idle_timeout and tcp_user_timeout at most half
/// the renew deadline). Never raised.
rebound::Options election_client_options(const LeaderElectionConfig& cfg);

/// The etcd backend's client options: election_client_options, HTTP/2
/// (prior knowledge for http:// members), and PINGs no more often than
/// every 5 s and none on a connection without an open stream - etcd's gRPC
/// server answers more frequent ones, and any three without a stream, with
/// GOAWAY too_many_pings. A silent member is left by the attempt deadline and the
/// move to the next endpoint instead.
rebound::Options etcd_client_options(const LeaderElectionConfig& cfg);

}  // namespace rebound::lease::detail
