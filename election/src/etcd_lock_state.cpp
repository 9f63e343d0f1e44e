// The etcd lock's decisions: see etcd_lock_state.hpp.
#include "etcd_lock_state.hpp"

#include <algorithm>

namespace rebound::lease::detail {

KeyOwner owner_of(const std::optional<EtcdKey>& key, std::int64_t our_lease) {
  if (!key) return KeyOwner::absent;
  return our_lease != 0 && key->lease == our_lease ? KeyOwner::ours : KeyOwner::other;
}

KeyOwner owner_after_create(const CreateOutcome& outcome, std::int64_t our_lease) {
  if (outcome.created) return KeyOwner::ours;
  return owner_of(outcome.existing, our_lease);
}

std::int64_t ttl_to_ask(std::chrono::milliseconds lease_duration) {
  return std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(lease_duration).count());
}

std::chrono::milliseconds lock_span(std::int64_t granted_ttl_seconds, std::chrono::milliseconds margin) {
  const std::chrono::milliseconds ttl = std::chrono::seconds(granted_ttl_seconds);
  return std::max(std::chrono::milliseconds::zero(), ttl - margin);
}

SteadyTime call_deadline(SteadyTime now, SteadyTime attempt_deadline, std::size_t endpoints,
                         std::chrono::milliseconds retry_period) {
  if (endpoints <= 1 || attempt_deadline <= now) return attempt_deadline;
  const auto share = (attempt_deadline - now) / static_cast<long>(endpoints);
  return std::min(attempt_deadline, now + std::max<SteadyTime::duration>(share, retry_period));
}

}  // namespace rebound::lease::detail
