// Leader election's decisions with time passed in: expiry by the local
// clock only, takeover and renewal specs, the release, jitter and the renew
// deadline. No sleeps.
#include "election_state.hpp"

#include <rebound/election/leader_elector.hpp>

#include <gtest/gtest.h>

using namespace rebound::lease;
using namespace rebound::lease::detail;
using namespace std::chrono_literals;

namespace {

const SteadyTime t0 = SteadyTime{} + 1000h;
const MicroTime wall = MicroTime(std::chrono::sys_days(std::chrono::year(2026) / 11 / 27));

Lease held_by(std::string holder, int duration_s, MicroTime renew, int transitions = 0) {
  Lease l;
  l.metadata.name = "lock";
  l.metadata.resource_version = "1";
  l.spec.holder_identity = std::move(holder);
  l.spec.lease_duration_seconds = duration_s;
  l.spec.renew_time = renew;
  l.spec.acquire_time = renew;
  l.spec.lease_transitions = transitions;
  return l;
}

Observation seen(const Lease& l, SteadyTime at) {
  Observation o;
  o.observe(to_json(l), l, at);
  return o;
}

}  // namespace

TEST(ElectionDecision, AnotherHoldersFreshLeaseIsLeftAlone) {
  const auto o = seen(held_by("a", 15, wall), t0);
  EXPECT_EQ(decide(o, "b", t0, 15s), Verdict::held_by_other);
  EXPECT_EQ(decide(o, "b", t0 + 14999ms, 15s), Verdict::held_by_other);
  EXPECT_EQ(decide(o, "b", t0 + 15s, 15s), Verdict::write);
}

TEST(ElectionDecision, ExpiryIsMeasuredFromFirstObservationNotFromRemoteRenewTime) {
  // A renewTime from long ago (or a skewed remote clock) does not make the
  // lease expired: only our own observation of an unchanged record does.
  const auto o = seen(held_by("a", 15, wall - 24h), t0);
  EXPECT_EQ(decide(o, "b", t0 + 1s, 15s), Verdict::held_by_other);
  // A renewTime in the future does not extend it either.
  const auto f = seen(held_by("a", 15, wall + 24h), t0);
  EXPECT_EQ(decide(f, "b", t0 + 15s, 15s), Verdict::write);
}

TEST(ElectionDecision, UnchangedRecordKeepsItsObservedTime) {
  Observation o = seen(held_by("a", 15, wall), t0);
  const auto same = held_by("a", 15, wall);
  o.observe(to_json(same), same, t0 + 10s);
  EXPECT_EQ(o.observed_at(), t0);
  EXPECT_EQ(decide(o, "b", t0 + 15s, 15s), Verdict::write);
}

TEST(ElectionDecision, ARenewalRestartsTheWait) {
  Observation o = seen(held_by("a", 15, wall), t0);
  const auto renewed = held_by("a", 15, wall + 2s);
  o.observe(to_json(renewed), renewed, t0 + 10s);
  EXPECT_EQ(o.observed_at(), t0 + 10s);
  EXPECT_EQ(decide(o, "b", t0 + 15s, 15s), Verdict::held_by_other);
  EXPECT_EQ(decide(o, "b", t0 + 25s, 15s), Verdict::write);
}

TEST(ElectionDecision, OwnLeaseIsAlwaysRenewable) {
  // Ours: the answer to our write, or a record carrying the spec we sent
  // (the write's answer was lost).
  const auto lease = held_by("a", 15, wall);
  Observation answered = seen(lease, t0);
  answered.note_written();
  EXPECT_EQ(decide(answered, "a", t0, 15s), Verdict::write);
  Observation unanswered;
  unanswered.note_sent(lease.spec);
  unanswered.observe(to_json(lease), lease, t0);
  EXPECT_EQ(decide(unanswered, "a", t0, 15s), Verdict::write);
}

TEST(ElectionDecision, ALeaseNamingUsThatThisProcessNeverWroteIsAnothersUntilItExpires) {
  // Two processes started with one identity: the record the other wrote
  // is not ours to renew, whatever its holder says.
  const auto o = seen(held_by("a", 15, wall), t0);
  EXPECT_FALSE(ours(o, "a"));
  EXPECT_EQ(decide(o, "a", t0 + 14s, 15s), Verdict::held_by_other);
  EXPECT_EQ(decide(o, "a", t0 + 15s, 15s), Verdict::write);
  // Once we wrote it, a later write by the other (a new resourceVersion and
  // spec) is theirs again.
  Observation mine = o;
  mine.note_written();
  EXPECT_TRUE(ours(mine, "a"));
  auto theirs = held_by("a", 15, wall + 2s);
  theirs.metadata.resource_version = "2";
  mine.observe(to_json(theirs), theirs, t0 + 2s);
  EXPECT_FALSE(ours(mine, "a"));
}

TEST(ElectionDecision, ReleasedLeaseIsFreeAtOnce) {
  EXPECT_EQ(decide(seen(held_by("", 1, wall), t0), "b", t0, 15s), Verdict::write);
}

TEST(ElectionDecision, RecordDurationWinsAndFallbackCoversItsAbsence) {
  EXPECT_EQ(expiry(seen(held_by("a", 2, wall), t0), 15s), t0 + 2s);
  Lease no_duration = held_by("a", 0, wall);
  no_duration.spec.lease_duration_seconds.reset();
  EXPECT_EQ(expiry(seen(no_duration, t0), 15s), t0 + 15s);
}

TEST(ElectionSpec, CreateStartsAtZeroTransitions) {
  const auto s = next_spec(nullptr, false, "a", wall, 15);
  EXPECT_EQ(s.holder_identity, "a");
  EXPECT_EQ(s.lease_duration_seconds, 15);
  EXPECT_EQ(s.acquire_time, wall);
  EXPECT_EQ(s.renew_time, wall);
  EXPECT_EQ(s.lease_transitions, 0);
}

TEST(ElectionSpec, RenewalKeepsAcquireTimeAndTransitions) {
  const auto current = held_by("a", 15, wall, 4).spec;
  const auto s = next_spec(&current, true, "a", wall + 2s, 15);
  EXPECT_EQ(s.acquire_time, wall);
  EXPECT_EQ(s.renew_time, wall + 2s);
  EXPECT_EQ(s.lease_transitions, 4);
}

TEST(ElectionSpec, TakeoverSetsAcquireTimeAndCountsATransition) {
  const auto current = held_by("a", 15, wall, 4).spec;
  const auto s = next_spec(&current, false, "b", wall + 20s, 15);
  EXPECT_EQ(s.holder_identity, "b");
  EXPECT_EQ(s.acquire_time, wall + 20s);
  EXPECT_EQ(s.lease_transitions, 5);
}

TEST(ElectionSpec, ReleaseClearsHolderWithOneSecondDuration) {
  const auto s = released_spec(held_by("a", 15, wall, 4).spec, wall + 3s);
  EXPECT_EQ(s.holder_identity, "");
  EXPECT_EQ(s.lease_duration_seconds, 1);
  EXPECT_EQ(s.lease_transitions, 4);
  EXPECT_EQ(s.renew_time, wall + 3s);
}

TEST(ElectionTiming, LeaseSecondsRoundUpNeverDown) {
  EXPECT_EQ(whole_seconds_up(1500ms), 2);
  EXPECT_EQ(whole_seconds_up(1000ms), 1);
  EXPECT_EQ(whole_seconds_up(1ms), 1);
  EXPECT_EQ(whole_seconds_up(15s), 15);
}

TEST(ElectionTiming, JitterStaysWithinItsFactor) {
  EXPECT_EQ(jittered(200ms, 1.2, 0.0), 200ms);
  EXPECT_EQ(jittered(200ms, 1.2, 0.5), 320ms);
  EXPECT_LE(jittered(200ms, 1.2, 0.999), 440ms);
  EXPECT_EQ(jittered(200ms, 0.0, 0.7), 200ms);
}

TEST(ElectionTiming, RenewDeadlineIsCappedByTheLeadershipTheLastWriteBought) {
  // A normal round: renew_deadline after its start.
  EXPECT_EQ(renew_round_deadline(t0, 10s, t0 + 12s), t0 + 10s);
  // The last renewal was sent long ago (a slow answer): leadership ends at
  // its bound, not a renew deadline later.
  EXPECT_EQ(renew_round_deadline(t0, 10s, t0 + 6s), t0 + 6s);
}

TEST(ElectionTiming, LeadershipLastsTheLeaseLessTheMarginFromTheWritesSend) {
  LeaderElectionConfig c;
  c.lease_duration = 15s;
  c.renew_deadline = 10s;
  // Unset: the leader gives up at the renew deadline; the rest is its margin.
  EXPECT_EQ(safety_margin(c), 5s);
  EXPECT_EQ(leadership_span(15s, safety_margin(c)), 10s);
  c.safety_margin = 2s;
  EXPECT_EQ(leadership_span(15s, safety_margin(c)), 13s);
}

TEST(ElectionClient, HealthTimingsAreLoweredBelowTheRenewDeadlineNeverRaised) {
  LeaderElectionConfig c;
  c.renew_deadline = 10s;
  c.retry_period = 2s;
  const auto o = election_client_options(c);
  EXPECT_EQ(o.ping_timeout, 2s);
  EXPECT_EQ(o.connect_timeout, 2s);
  EXPECT_EQ(o.read_idle_timeout, 5s);
  EXPECT_EQ(o.tcp_user_timeout, 5s);
  c.client_options.ping_timeout = 500ms;
  EXPECT_EQ(election_client_options(c).ping_timeout, 500ms);
}

TEST(ElectionConfig, RejectsTimingsClientGoRejects) {
  LeaderElectionConfig c;
  c.base_url = "https://127.0.0.1:1";
  c.name = "lock";
  c.identity = "a";
  EXPECT_EQ(c.validate(), "");
  c.lease_duration = 10s;
  EXPECT_NE(c.validate(), "");  // not greater than renew_deadline
  c.lease_duration = 15s;
  c.retry_period = 9s;
  EXPECT_NE(c.validate(), "");  // renew_deadline <= 1.2 * retry_period
  c.retry_period = 2s;
  c.safety_margin = 15s;
  EXPECT_NE(c.validate(), "");  // no leadership left
  c.safety_margin = -1ms;
  EXPECT_NE(c.validate(), "");
  c.safety_margin.reset();
  c.identity.clear();
  EXPECT_NE(c.validate(), "");
  EXPECT_THROW(LeaderElector{c}, std::invalid_argument);
}
