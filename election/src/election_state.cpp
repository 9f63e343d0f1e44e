// Leader election's decisions: see election_state.hpp.
#include "election_state.hpp"

#include <algorithm>
#include <cmath>

namespace rebound::lease::detail {

void Observation::observe(boost::json::object object, const Lease& lease, SteadyTime now) {
  // Compare the spec, not the resourceVersion: a label edit is not a renewal.
  if (empty_ || !(lease.spec == spec_)) observed_at_ = now;
  empty_ = false;
  object_ = std::move(object);
  spec_ = lease.spec;
  resource_version_ = lease.metadata.resource_version;
}

SteadyTime expiry(const Observation& o, std::chrono::milliseconds fallback) {
  const auto seconds = o.spec().lease_duration_seconds;
  const std::chrono::milliseconds duration =
      seconds && *seconds > 0 ? std::chrono::milliseconds(std::chrono::seconds(*seconds)) : fallback;
  return o.observed_at() + duration;
}

bool ours(const Observation& o, std::string_view identity) {
  return !o.empty() && o.holder() == identity && o.written_by_us();
}

Verdict decide(const Observation& o, std::string_view identity, SteadyTime now, std::chrono::milliseconds fallback) {
  // Nobody holds it (never held, or released): anyone may take it at once.
  if (o.holder().empty()) return Verdict::write;
  // Ours (we wrote it): renew.
  if (ours(o, identity)) return Verdict::write;
  // Someone else's - or our name written by another process - changed
  // recently by our clock: still theirs.
  if (now < expiry(o, fallback)) return Verdict::held_by_other;
  return Verdict::write;
}

LeaseSpec next_spec(const LeaseSpec* current, bool renewing, std::string_view identity, MicroTime now,
                    std::int32_t duration_seconds) {
  LeaseSpec next;
  next.holder_identity = std::string(identity);
  next.lease_duration_seconds = duration_seconds;
  next.renew_time = now;
  if (current && renewing) {
    next.acquire_time = current->acquire_time ? current->acquire_time : std::optional(now);
    next.lease_transitions = current->lease_transitions;
  } else {
    next.acquire_time = now;
    next.lease_transitions = current ? current->lease_transitions + 1 : 0;
  }
  return next;
}

LeaseSpec released_spec(const LeaseSpec& current, MicroTime now) {
  LeaseSpec next;
  next.lease_duration_seconds = 1;
  next.acquire_time = now;
  next.renew_time = now;
  next.lease_transitions = current.lease_transitions;
  return next;
}

std::int32_t whole_seconds_up(std::chrono::milliseconds d) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
  return static_cast<std::int32_t>(std::clamp<long long>(s, 1, INT32_MAX));
}

std::chrono::milliseconds jittered(std::chrono::milliseconds period, double factor, double unit) {
  const double extra = std::max(0.0, factor) * std::clamp(unit, 0.0, 1.0) * static_cast<double>(period.count());
  return period + std::chrono::milliseconds(static_cast<long long>(std::llround(extra)));
}

std::chrono::milliseconds leadership_span(std::chrono::milliseconds lease_duration,
                                          std::chrono::milliseconds margin) {
  return std::max(std::chrono::milliseconds::zero(), lease_duration - margin);
}

std::chrono::milliseconds safety_margin(const LeaderElectionConfig& cfg) {
  return cfg.safety_margin.value_or(cfg.lease_duration - cfg.renew_deadline);
}

SteadyTime renew_round_deadline(SteadyTime round_start, std::chrono::milliseconds renew_deadline,
                                SteadyTime valid_until) {
  return std::min(round_start + renew_deadline, valid_until);
}

}  // namespace rebound::lease::detail
