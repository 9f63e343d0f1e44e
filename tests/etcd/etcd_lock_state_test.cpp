// The etcd lock's decisions without etcd: the key is judged by its lease,
// never by its value, and leadership lasts from a refresh's send time for
// the TTL etcd granted less the margin.
#include "etcd_lock_state.hpp"

#include <gtest/gtest.h>

using namespace rebound::lease::detail;
using namespace std::chrono_literals;

TEST(EtcdLockState, AKeyOnOurLeaseIsOursEvenWhenTheCreateWasAResend) {
  // The first create succeeded but its answer was lost; the resend's
  // compare fails against the key the first one made.
  CreateOutcome resent;
  resent.created = false;
  resent.existing = EtcdKey{10, 10, 0x1234, "me_0001"};
  EXPECT_EQ(owner_after_create(resent, 0x1234), KeyOwner::ours);
}

TEST(EtcdLockState, AKeyOnAnotherLeaseIsAnothersEvenWithOurIdentityAsItsValue) {
  CreateOutcome found;
  found.existing = EtcdKey{10, 12, 0x9999, "me_0001"};
  EXPECT_EQ(owner_after_create(found, 0x1234), KeyOwner::other);
  EXPECT_EQ(owner_of(EtcdKey{10, 12, 0, "me_0001"}, 0x1234), KeyOwner::other) << "a key on no lease never expires";
  EXPECT_EQ(owner_of(EtcdKey{10, 12, 0, "x"}, 0), KeyOwner::other) << "without a lease nothing is ours";
}

TEST(EtcdLockState, ACreatedKeyIsOursAndAMissingOneIsAbsent) {
  CreateOutcome created;
  created.created = true;
  EXPECT_EQ(owner_after_create(created, 7), KeyOwner::ours);
  EXPECT_EQ(owner_of(std::nullopt, 7), KeyOwner::absent);
}

TEST(EtcdLockState, AKeepaliveAnsweredWithTtlZeroMeansTheLeaseIsGone) {
  EXPECT_TRUE(lease_alive(2));
  EXPECT_FALSE(lease_alive(0));
  EXPECT_FALSE(lease_alive(-1));
}

TEST(EtcdLockState, LeadershipIsTheGrantedTtlLessTheMarginNotWhatWasAsked) {
  EXPECT_EQ(ttl_to_ask(1500ms), 2);
  EXPECT_EQ(ttl_to_ask(2000ms), 2);
  EXPECT_EQ(ttl_to_ask(1ms), 1);
  // Asked for 2 s, etcd granted 5 (its minimum TTL may be higher).
  EXPECT_EQ(lock_span(5, 1000ms), 4000ms);
  EXPECT_EQ(lock_span(1, 1500ms), 0ms) << "never negative";
}

TEST(EtcdLockState, TheLeaseStateRemembersTheLastRefreshSendTime) {
  EtcdLeaseState s;
  EXPECT_FALSE(s.have());
  const SteadyTime t0{std::chrono::seconds(100)};
  s.granted(42, 3, t0);
  EXPECT_TRUE(s.have());
  s.refreshed(t0 + 500ms);
  EXPECT_EQ(s.refreshed_sent, t0 + 500ms);
  EXPECT_EQ(s.granted_ttl, 3);
  s.forget();
  EXPECT_FALSE(s.have());
}

TEST(EtcdLockState, EachCallGetsItsShareOfTheAttemptSoASilentMemberLeavesTimeForTheOthers) {
  const SteadyTime now{};
  // Three members, 3 s left: a call waits a second at most.
  EXPECT_EQ(call_deadline(now, now + 3s, 3, 300ms), now + 1s);
  // Never less than a retry period, nor past the attempt's deadline.
  EXPECT_EQ(call_deadline(now, now + 600ms, 3, 300ms), now + 300ms);
  EXPECT_EQ(call_deadline(now, now + 200ms, 3, 300ms), now + 200ms);
  // One member: nobody else to try, the whole attempt.
  EXPECT_EQ(call_deadline(now, now + 3s, 1, 300ms), now + 3s);
}
