// The decisions of the etcd lock, with time passed in and no I/O: whose the
// key is (by the lease it is attached to, so a resent acquire that finds
// our own key is not mistaken for another holder), whether a keepalive's
// answer means the lease lives, and how long a lease renewal makes this
// candidate leader.
#pragma once

#include "etcd_api.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace rebound::lease::detail {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class KeyOwner {
  ours,    ///< attached to our lease: we hold the lock (created now or earlier)
  absent,  ///< no key (deleted, or expired with its lease)
  other,   ///< attached to another lease (or to none): another holder
};

/// Who holds the lock key, judged by its lease - never by its value: two
/// processes with one identity have different leases.
KeyOwner owner_of(const std::optional<EtcdKey>& key, std::int64_t our_lease);

/// The create-if-absent Txn's answer judged: created, or the key found.
KeyOwner owner_after_create(const CreateOutcome& outcome, std::int64_t our_lease);

/// Whether a LeaseKeepAlive answer kept the lease alive: etcd answers TTL
/// 0 (or less) for a lease that no longer exists.
inline bool lease_alive(std::int64_t keepalive_ttl) { return keepalive_ttl > 0; }

/// The TTL to ask etcd for: lease_duration rounded up to whole seconds.
std::int64_t ttl_to_ask(std::chrono::milliseconds lease_duration);

/// How long leadership lasts after the grant or keepalive that last
/// refreshed the lease was *sent*: the TTL etcd granted (which may exceed
/// what was asked) less the safety margin. etcd started or refreshed the
/// lease no earlier than the send, so the key cannot expire - and no one
/// else can create it - before send + granted TTL, whichever member
/// answered.
std::chrono::milliseconds lock_span(std::int64_t granted_ttl_seconds, std::chrono::milliseconds margin);

/// When one etcd call of an attempt must give up: the attempt may use the
/// rest of its round, but a member that does not answer (killed,
/// blackholed, cut off from quorum) must not take all of it, or no other
/// member is tried before the renew deadline. So each call gets its share
/// of what is left (the whole of it with one endpoint), and never less
/// than a retry period, so that members slower than that still answer.
SteadyTime call_deadline(SteadyTime now, SteadyTime attempt_deadline, std::size_t endpoints,
                         std::chrono::milliseconds retry_period);

/// What this candidate knows of its etcd lease between attempts.
struct EtcdLeaseState {
  std::int64_t id = 0;           ///< 0: none (never granted, or found gone)
  std::int64_t granted_ttl = 0;  ///< seconds, as etcd granted
  SteadyTime refreshed_sent{};   ///< send time of the last successful grant or keepalive

  bool have() const { return id != 0; }
  void granted(std::int64_t lease, std::int64_t ttl, SteadyTime sent) {
    id = lease;
    granted_ttl = ttl;
    refreshed_sent = sent;
  }
  void refreshed(SteadyTime sent) { refreshed_sent = sent; }
  void forget() { *this = EtcdLeaseState{}; }
};

}  // namespace rebound::lease::detail
