// The endpoint group's decisions without I/O: an endpoint's health as a
// state machine (healthy -> skipped -> probing -> healthy), the pick (probes
// first, round robin over the healthy, the soonest skipped when none is),
// and a request's journey (unsent moves at once; the retry table decides
// what may have been processed). Time is a parameter: nothing sleeps.
#include "endpoints/endpoint_health.hpp"
#include "endpoints/endpoint_journey.hpp"

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::endpoints;
using namespace std::chrono_literals;

namespace {

const SkipBackoff health_test_backoff{100ms, 1000ms};
const Clock::time_point health_t0 = Clock::time_point{} + 1h;

std::vector<bool> none_tried(std::size_t n) { return std::vector<bool>(n, false); }

}  // namespace

TEST(EndpointHealth, AFailedAttemptSkipsAHealthyEndpointForItsBackoff) {
  EndpointHealth h;
  EXPECT_EQ(h.on(Signal::failed, health_t0, health_t0, health_test_backoff, 0.99), EndpointState::healthy);
  EXPECT_EQ(h.state(), EndpointState::skipped);
  EXPECT_EQ(h.failures(), 1);
  EXPECT_GE(h.skipped_until(), health_t0 + 50ms);
  EXPECT_LE(h.skipped_until(), health_t0 + 100ms);
  EXPECT_FALSE(h.backoff_over(health_t0 + 40ms));
  EXPECT_TRUE(h.backoff_over(health_t0 + 100ms));
}

TEST(EndpointHealth, AProbeThatAnswersMakesItHealthyAndOneThatFailsBacksOffLonger) {
  EndpointHealth h;
  h.on(Signal::failed, health_t0, health_t0, health_test_backoff, 0.99);
  const auto t1 = health_t0 + 200ms;
  h.on(Signal::probe_sent, t1, t1, health_test_backoff, 0.99);
  EXPECT_EQ(h.state(), EndpointState::probing);
  h.on(Signal::failed, t1 + 10ms, t1, health_test_backoff, 0.99);
  EXPECT_EQ(h.state(), EndpointState::skipped);
  EXPECT_EQ(h.failures(), 2);
  EXPECT_GT(h.skipped_until(), t1 + 10ms + 150ms) << "the second failure in a row backs off longer";
  const auto t2 = h.skipped_until();
  h.on(Signal::probe_sent, t2, t2, health_test_backoff, 0.99);
  h.on(Signal::answered, t2 + 5ms, t2, health_test_backoff, 0.99);
  EXPECT_EQ(h.state(), EndpointState::healthy);
  EXPECT_EQ(h.failures(), 0);
}

TEST(EndpointHealth, AttemptsStartedBeforeTheSkipNeitherLengthenNorEndIt) {
  EndpointHealth h;
  h.on(Signal::failed, health_t0, health_t0, health_test_backoff, 0.99);
  const auto until = h.skipped_until();
  // Requests in flight when it was skipped end later, either way.
  h.on(Signal::failed, health_t0 + 5ms, health_t0 - 1ms, health_test_backoff, 0.99);
  h.on(Signal::answered, health_t0 + 6ms, health_t0 - 1ms, health_test_backoff, 0.99);
  EXPECT_EQ(h.state(), EndpointState::skipped);
  EXPECT_EQ(h.failures(), 1);
  EXPECT_EQ(h.skipped_until(), until);
}

TEST(EndpointHealth, AProbeThatToldNothingLetsTheNextRequestProbeAgain) {
  EndpointHealth h;
  h.on(Signal::failed, health_t0, health_t0, health_test_backoff, 0.99);
  const auto t1 = health_t0 + 150ms;
  h.on(Signal::probe_sent, t1, t1, health_test_backoff, 0.99);
  h.on(Signal::no_verdict, t1 + 1ms, t1, health_test_backoff, 0.99);  // say the caller cancelled it
  EXPECT_EQ(h.state(), EndpointState::skipped);
  EXPECT_TRUE(h.backoff_over(t1 + 1ms));
  EXPECT_EQ(h.failures(), 1);
}

TEST(EndpointHealth, ErrorsSayWhetherTheEndpointFailed) {
  EXPECT_EQ(signal_of(errc::connection_refused), Signal::failed);
  EXPECT_EQ(signal_of(errc::health_check_failed), Signal::failed);
  EXPECT_EQ(signal_of(errc::refused_by_server), Signal::failed);
  EXPECT_EQ(signal_of(errc::connection_lost_after_send), Signal::failed);
  EXPECT_EQ(signal_of(errc::cancelled), Signal::no_verdict);
  EXPECT_EQ(signal_of(errc::deadline_exceeded), Signal::no_verdict);
  EXPECT_EQ(signal_of(errc::connection_closed), Signal::no_verdict) << "a pooled connection closed while idle";
}

TEST(EndpointTable, HealthyEndpointsTakeAttemptsInTurn) {
  EndpointTable t(3);
  std::vector<std::size_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(t.pick(health_t0, none_tried(3), health_test_backoff, 0.5)->index);
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(EndpointTable, ASkippedEndpointIsPassedOverUntilItsBackoffEndsThenProbedFirst) {
  EndpointTable t(3);
  t.at(1).on(Signal::failed, health_t0, health_t0, health_test_backoff, 0.99);
  std::vector<std::size_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(t.pick(health_t0 + 1ms, none_tried(3), health_test_backoff, 0.5)->index);
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 2, 0, 2}));
  const auto p = t.pick(health_t0 + 200ms, none_tried(3), health_test_backoff, 0.5);
  EXPECT_EQ(p->index, 1u);
  EXPECT_TRUE(p->probe);
  EXPECT_EQ(t.at(1).state(), EndpointState::probing);
  EXPECT_NE(t.pick(health_t0 + 200ms, none_tried(3), health_test_backoff, 0.5)->index, 1u) << "one probe at a time";
}

TEST(EndpointTable, WhenEveryEndpointIsSkippedTheOneWhoseBackoffEndsFirstIsTried) {
  EndpointTable t(3);
  t.at(0).on(Signal::failed, health_t0 + 20ms, health_t0 + 20ms, health_test_backoff, 0.99);
  t.at(1).on(Signal::failed, health_t0, health_t0, health_test_backoff, 0.99);
  t.at(2).on(Signal::failed, health_t0 + 10ms, health_t0 + 10ms, health_test_backoff, 0.99);
  const auto p = t.pick(health_t0 + 30ms, none_tried(3), health_test_backoff, 0.5);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->index, 1u);
  EXPECT_TRUE(p->probe);
}

TEST(EndpointTable, AnEndpointTheRequestAlreadyTriedIsNotPickedAgainInTheRound) {
  EndpointTable t(2);
  std::vector<bool> tried{true, false};
  EXPECT_EQ(t.pick(health_t0, tried, health_test_backoff, 0.5)->index, 1u);
  tried = {true, true};
  EXPECT_FALSE(t.pick(health_t0, tried, health_test_backoff, 0.5));
}

TEST(EndpointJourney, AnAttemptNeverSentMovesToAnotherEndpointAtOnceForAnyMethod) {
  Journey j(Request::post("/x", "body"), health_t0 + 5s, 3, {});
  j.sent(0);
  const auto next = j.after_failure(Error(errc::connection_refused, "dial", progress::not_sent), health_t0, 0.5);
  EXPECT_EQ(next.what, Journey::What::send_now);
  EXPECT_TRUE(next.free);
}

TEST(EndpointJourney, APostThatMayHaveBeenProcessedIsNeverResent) {
  Journey j(Request::post("/x", "body"), health_t0 + 5s, 3, {});
  j.sent(0);
  const auto next =
      j.after_failure(Error(errc::connection_lost_after_send, "lost", progress::sent), health_t0, 0.5);
  EXPECT_EQ(next.what, Journey::What::complete) << next.reason;
}

TEST(EndpointJourney, AGetThatMayHaveBeenProcessedGoesToAnotherEndpoint) {
  Journey j(Request::get("/x"), health_t0 + 5s, 3, {});
  j.sent(0);
  const auto next = j.after_failure(Error(errc::health_check_failed, "ping", progress::sent), health_t0, 0.5);
  EXPECT_EQ(next.what, Journey::What::send_now) << next.reason;
  EXPECT_FALSE(next.free) << "a resend the retry table allowed: an attempt, from the budget";
}

TEST(EndpointJourney, OnceEveryEndpointFailedTheNextRoundWaitsABackoffWithinTheDeadline) {
  Journey j(Request::get("/x"), health_t0 + 5s, 2, {});
  j.sent(0);
  EXPECT_TRUE(j.after_failure(Error(errc::connection_refused, "", progress::not_sent), health_t0, 0.5).free);
  j.sent(1);
  const auto next = j.after_failure(Error(errc::connection_refused, "", progress::not_sent), health_t0, 0.5);
  EXPECT_EQ(next.what, Journey::What::send_after) << next.reason;
  EXPECT_GT(next.delay.count(), 0);
  EXPECT_EQ(j.tried(), (std::vector<bool>{false, false}));
  Journey late(Request::get("/x"), health_t0 + 1ms, 1, {});
  late.sent(0);
  EXPECT_EQ(late.after_failure(Error(errc::connection_refused, "", progress::not_sent), health_t0, 0.5).what,
            Journey::What::complete);
}
