// Specification of the origin pool's state machine, driven through fakes
// (tests/pool/fakes.hpp): no sockets, no sleeps. Each test names the
// DESIGN.md invariant or retry-table row it pins.
#include "pool/pool_fixture.hpp"

#include <map>
#include <optional>

using namespace rebound;
using namespace rebound::pool;
using namespace rebound::pool::fakes;
using namespace rebound::pool::testing;
using namespace std::chrono_literals;

// --- the lifecycle table ----------------------------------------------------

TEST(ConnectionLifecycle, OnlyTheDesignedTransitionsAreAllowed) {
  using S = ConnState;
  const S all[] = {S::ready, S::busy, S::draining, S::closed};
  const std::map<std::pair<S, S>, bool> allowed = {
      {{S::ready, S::busy}, true},      {{S::ready, S::draining}, true}, {{S::ready, S::closed}, true},
      {{S::busy, S::ready}, true},      {{S::busy, S::draining}, true},  {{S::busy, S::closed}, true},
      {{S::draining, S::closed}, true},
  };
  for (S from : all)
    for (S to : all) {
      const auto it = allowed.find({from, to});
      EXPECT_EQ(transition_allowed(from, to), it != allowed.end())
          << to_string(from) << " -> " << to_string(to);
    }
}

// --- checkout and dialing ---------------------------------------------------

TEST_F(PoolTest, AFirstRequestDialsAndRunsOnTheNewConnection) {
  make_pool("http://origin.test:80");
  const auto r = send();
  EXPECT_EQ(pool->counts(), (PoolCounts{0, 0, 0, 1, 1}));
  connector.succeed(Protocol::http1);
  settle();
  EXPECT_EQ(pool->counts(), (PoolCounts{0, 1, 0, 0, 0}));
  conn(0).respond(200);
  settle();
  ASSERT_TRUE(completed(r));
  ASSERT_TRUE(result(r));
  EXPECT_EQ(result(r)->status(), 200);
  EXPECT_EQ(result(r)->attempts(), 1);
  EXPECT_EQ(pool->counts(), (PoolCounts{1, 0, 0, 0, 0}));
}

TEST_F(PoolTest, Invariant3_HundredFirstRequestsToAnOriginThatMaySpeakHttp2CauseOneDial) {
  make_pool("https://origin.test:443");  // protocol unknown until ALPN
  for (int i = 0; i < 100; ++i) send();
  EXPECT_EQ(connector.dials.size(), 1u);
  connector.succeed(Protocol::http2);
  settle();
  EXPECT_EQ(connector.dials.size(), 1u);
  EXPECT_EQ(conn(0).running().size(), 100u);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, Invariant3_ANewHttp2ConnectionAwaitingItsPeersLimitsTakesOneRequestAndNoDialGoesBesideIt) {
  options.max_conns_per_origin = 4;
  connector.h2_streams = 10;
  connector.h2_limits_pending = true;
  make_pool("https://origin.test:443");
  for (int i = 0; i < 100; ++i) send();
  for (std::size_t n = 1; n <= 4; ++n) {
    ASSERT_EQ(connector.dials.size(), n);
    connector.succeed(Protocol::http2);
    settle();
    EXPECT_EQ(conn(n - 1).running().size(), 1u) << "only one request before the peer's limits";
    EXPECT_EQ(connector.dials.size(), n) << "a dial beside a connection whose limits are about to arrive";
    conn(n - 1).learn_limits();
    settle();
    EXPECT_EQ(conn(n - 1).running().size(), 10u);
  }
  EXPECT_EQ(connector.dials.size(), 4u);
  EXPECT_EQ(pool->counts().waiting, 60u);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, AConnectionDrainedBeforeItsPeersLimitsArrivedDoesNotHoldBackTheNextDial) {
  connector.h2_limits_pending = true;
  make_pool("https://origin.test:443");
  send();
  connector.succeed(Protocol::http2);
  settle();
  conn(0).goaway();  // GOAWAY as the server's first frame
  settle();
  send();
  EXPECT_EQ(connector.in_flight(), 1u);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, Invariant3_AnHttp1OriginDialsOnePerWaitingRequestUpToTheLimitInParallel) {
  options.max_conns_per_origin = 4;
  make_pool("http://origin.test:80");
  for (int i = 0; i < 6; ++i) send();
  EXPECT_EQ(connector.in_flight(), 4u);
  for (int i = 0; i < 4; ++i) connector.succeed(Protocol::http1);
  settle();
  EXPECT_EQ(pool->counts(), (PoolCounts{0, 4, 0, 0, 2}));
  conn(0).respond();
  settle();
  EXPECT_EQ(conn(0).running().size(), 1u);  // a waiting one took the freed connection
  EXPECT_EQ(connector.dials.size(), 4u);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, AFullHttp2ConnectionIsBusyAndTheNextRequestDialsAnother) {
  connector.h2_streams = 2;
  make_pool("https://origin.test:443");
  send();
  connector.succeed(Protocol::http2);
  settle();
  send();
  EXPECT_EQ(pool->counts(), (PoolCounts{0, 1, 0, 0, 0}));
  send();
  EXPECT_EQ(connector.in_flight(), 1u);
  connector.succeed(Protocol::http2);
  settle();
  EXPECT_EQ(conn(1).running().size(), 1u);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, TheQueueIsBoundedPerOrigin) {
  options.max_queued_per_origin = 2;
  make_pool("http://origin.test:80");
  send();
  send();
  const auto third = send();
  ASSERT_TRUE(completed(third));
  EXPECT_EQ(result(third).error().code(), errc::queue_full);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, TheQueueLimitCountsOnlyRequestsStillWaiting) {
  options.max_queued_per_origin = 3;
  make_pool("http://origin.test:80");
  const auto first = send();
  const auto second = send();
  const auto third = send();
  // The last two end while they wait (their deadlines), behind a live first.
  for (const auto i : {second, third})
    exchanges[i]->complete(Error(errc::deadline_exceeded, "deadline", progress::not_sent));
  settle();
  const auto fourth = send();
  EXPECT_FALSE(completed(fourth)) << "refused with one request waiting: "
                                  << (completed(fourth) ? result(fourth).error().message() : "");
  EXPECT_EQ(pool->counts().waiting, 2u);
  EXPECT_FALSE(completed(first));
  end_with_requests_in_flight();
}

// --- invariants 1 and 2 -----------------------------------------------------

TEST_F(PoolTest, Invariant1_ADrainingConnectionIsNeverHandedARequest) {
  make_pool("https://origin.test:443");
  send();
  connector.succeed(Protocol::http2);
  settle();
  conn(0).goaway();  // one stream still running: draining, not closed
  EXPECT_EQ(pool->counts(), (PoolCounts{0, 0, 1, 0, 0}));
  const auto next = send();
  EXPECT_EQ(conn(0).running().size(), 1u);
  EXPECT_EQ(connector.in_flight(), 1u) << "a new request needs a new connection";
  connector.succeed(Protocol::http2);
  settle();
  conn(1).respond();
  settle();
  ASSERT_TRUE(completed(next));
  EXPECT_TRUE(result(next));
  EXPECT_FALSE(completed(0)) << "the old stream runs on";
  conn(0).respond();
  settle();
  ASSERT_TRUE(result(0));
  EXPECT_EQ(result(0)->attempts(), 1);
  EXPECT_EQ(pool->counts(), (PoolCounts{1, 0, 0, 0, 0}));  // the drained one left
}

TEST_F(PoolTest, Invariant2_AClosedConnectionLeavesThePoolInTheSameStep) {
  // One slot for the origin: a closed connection still held would block the next request.
  options.max_conns_per_origin = 1;
  make_pool("http://origin.test:80");
  send();
  connector.succeed(Protocol::http1);
  settle();
  conn(0).respond();
  settle();
  ASSERT_EQ(pool->slots_in_use(), 1u);
  conn(0).close(Error(errc::connection_closed, "peer closed"));
  // No deferred work has run: the pool itself must already be without it.
  EXPECT_EQ(pool->dump().find('\n'), std::string::npos) << "the closed connection is still listed:\n" << pool->dump();
  EXPECT_EQ(pool->slots_in_use(), 0u) << "the closed connection still holds the origin's only slot";
  EXPECT_TRUE(pool->reap(clock.now())) << "the pool holds nothing, and says so";
  const auto next = send();  // decides its dial before anything deferred runs
  ASSERT_EQ(connector.in_flight(), 1u) << pool->dump();
  connector.succeed(Protocol::http1);
  settle();
  conn(1).respond();
  settle();
  ASSERT_TRUE(completed(next));
  EXPECT_TRUE(result(next));
}

// --- the retry table, as the pool carries it out ----------------------------

TEST_F(PoolTest, RetryTable_ARefusedAttemptIsRetriedWhateverTheMethod) {
  make_pool("https://origin.test:443");
  const auto post = send("POST");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  ASSERT_FALSE(completed(post));
  ASSERT_EQ(conn(0).running().size(), 1u);
  conn(0).respond(201);
  settle();
  ASSERT_TRUE(result(post));
  EXPECT_EQ(result(post)->attempts(), 2);
}

TEST_F(PoolTest, RetryTable_ARequestRefusedTwiceRestsForAJitteredBackoffBeforeItsNextAttempt) {
  options.backoff_base = 100ms;
  make_pool("https://origin.test:443");
  const auto post = send("POST");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  ASSERT_EQ(conn(0).running().size(), 1u) << "the first refusal is retried at once";
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  EXPECT_TRUE(conn(0).running().empty()) << "the second refusal rests instead of going straight back";
  EXPECT_EQ(pool->counts().waiting, 1u);
  EXPECT_EQ(connector.in_flight(), 0u) << "a resting request wants no dial";
  advance(49ms);  // jitter keeps the first backoff within [base/2, base]
  EXPECT_TRUE(conn(0).running().empty());
  advance(51ms);
  ASSERT_EQ(conn(0).running().size(), 1u) << "woken within the backoff";
  conn(0).respond(201);
  settle();
  ASSERT_TRUE(completed(post));
  ASSERT_TRUE(result(post)) << result(post).error().message();
  EXPECT_EQ(result(post)->attempts(), 3);
}

TEST_F(PoolTest, RetryTable_ARefusalSpellOutlastingMaxAttemptsIsRiddenOutWithBackoffCappedNearASecond) {
  make_pool("https://origin.test:443");
  const auto post = send("POST");
  connector.succeed(Protocol::http2);
  settle();
  for (int i = 0; i < 3 * options.max_attempts; ++i) {
    ASSERT_EQ(conn(0).running().size(), 1u)
        << "refusal " << i << ": " << (completed(post) ? result(post).error().message() : "still resting");
    conn(0).fail_front(errc::refused_by_server, progress::refused);
    settle();
    advance(1s);  // no rest after a refusal is longer than about a second
  }
  ASSERT_EQ(conn(0).running().size(), 1u);
  conn(0).respond(201);
  settle();
  ASSERT_TRUE(completed(post));
  ASSERT_TRUE(result(post)) << result(post).error().message();
  EXPECT_EQ(result(post)->attempts(), 3 * options.max_attempts + 1);
}

TEST_F(PoolTest, RetryTable_ARefuserToTheEndFailsWithTheRefusalBeforeItsDeadline) {
  make_pool("https://origin.test:443");
  const auto ends = clock.now() + deadline;
  const auto get = send("GET");
  connector.succeed(Protocol::http2);
  settle();
  while (!completed(get)) {
    if (!conn(0).running().empty()) conn(0).fail_front(errc::refused_by_server, progress::refused);
    settle();
    advance(1s);
    // The shard's deadline, if the pool has not ended it first.
    if (clock.now() >= ends && !completed(get))
      exchanges[get]->complete(Error(errc::deadline_exceeded, "deadline", progress::not_sent, exchanges[get]->attempts()));
    settle();
  }
  ASSERT_FALSE(result(get));
  // Either the pool saw the next rest would pass the deadline, or the deadline came.
  if (result(get).error().code() == errc::refused_by_server)
    EXPECT_NE(result(get).error().message().find("deadline"), std::string::npos) << result(get).error().message();
  else
    EXPECT_EQ(result(get).error().code(), errc::deadline_exceeded);
  EXPECT_GT(result(get).error().attempts(), 1000) << "bounded by the deadline, not a count";
}

TEST_F(PoolTest, ARefusedRequestWhoseBackoffWouldPassItsDeadlineFailsAtOnceSayingSo) {
  options.backoff_base = 2s;  // rests 0.5-1 s (max_refusal_backoff) after the second refusal
  deadline = 400ms;
  make_pool("https://origin.test:443");
  const auto get = send("GET");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  ASSERT_TRUE(completed(get)) << "no wait for a backoff that cannot end in time";
  ASSERT_FALSE(result(get));
  EXPECT_EQ(result(get).error().code(), errc::refused_by_server);
  EXPECT_NE(result(get).error().message().find("deadline"), std::string::npos) << result(get).error().message();
}

TEST_F(PoolTest, ShutdownCompletesARequestRestingAfterRefusals) {
  make_pool("https://origin.test:443");
  const auto get = send("GET");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  conn(0).fail_front(errc::refused_by_server, progress::refused);
  settle();
  ASSERT_FALSE(completed(get));
  pool->shutdown();
  settle();
  ASSERT_TRUE(completed(get));
  EXPECT_EQ(result(get).error().code(), errc::client_shut_down);
}

TEST_F(PoolTest, RetryTable_Invariant5_LostAfterSendingRetriesAGetButNeverAPost) {
  make_pool("https://origin.test:443");
  const auto get = send("GET");
  const auto post = send("POST");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).close(Error(errc::connection_closed, "reset by peer"));  // both were sent
  settle();
  ASSERT_TRUE(completed(post));
  EXPECT_EQ(result(post).error().code(), errc::connection_lost_after_send);
  EXPECT_EQ(result(post).error().reached(), progress::sent);
  EXPECT_EQ(result(post).error().attempts(), 1);
  EXPECT_FALSE(completed(get)) << "the GET waits for a new connection";
  connector.succeed(Protocol::http2);
  settle();
  conn(1).respond();
  settle();
  ASSERT_TRUE(result(get));
  EXPECT_EQ(result(get)->attempts(), 2);
}

TEST_F(PoolTest, RetryTable_AResponseThatStartedIsNeverRetried) {
  make_pool("https://origin.test:443");
  const auto get = send("GET");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).fail_front(errc::truncated_response, progress::response_started);
  settle();
  ASSERT_TRUE(completed(get));
  EXPECT_EQ(result(get).error().code(), errc::truncated_response);
  EXPECT_EQ(connector.dials.size(), 1u);
}

TEST_F(PoolTest, HealthFailureClosesTheConnectionAndRetriesOnlyWhatMayBeRepeated) {
  make_pool("https://origin.test:443");
  const auto get = send("GET");
  const auto post = send("POST");
  connector.succeed(Protocol::http2);
  settle();
  conn(0).close(Error(errc::health_check_failed, "no PING ACK"));
  settle();
  EXPECT_EQ(pool->counts().ready + pool->counts().busy, 0u);
  ASSERT_TRUE(completed(post));
  EXPECT_EQ(result(post).error().code(), errc::health_check_failed);
  EXPECT_FALSE(completed(get));
  EXPECT_EQ(connector.in_flight(), 1u);
  end_with_requests_in_flight();
}

// --- staggered dials (a SYN lost to a partition) ------------------------------

TEST_F(PoolTest, ADialPendingLongerThanTheStaggerGetsAFreshOneBesideItAndTheFirstToConnectServes) {
  options.dial_stagger = 250ms;
  make_pool("https://origin.test:443");
  const auto a = send();
  EXPECT_EQ(connector.in_flight(), 1u);
  advance(249ms);
  EXPECT_EQ(connector.in_flight(), 1u) << "a dial younger than the stagger holds the request";
  advance(1ms);
  EXPECT_EQ(connector.in_flight(), 2u) << "no fresh dial beside one pending for the stagger";
  // The fresh one connects (the path healed; the first SYN waits for TCP's
  // retransmission): it serves the queue and the stale one is cancelled.
  connector.dials[1]->complete({}, net::DialResult{nullptr, Protocol::http2, {}});
  settle();
  EXPECT_TRUE(connector.dials[0]->cancelled);
  EXPECT_EQ(connector.in_flight(), 0u);
  ASSERT_EQ(conn(0).running().size(), 1u);
  conn(0).respond();
  settle();
  ASSERT_TRUE(completed(a));
  EXPECT_TRUE(result(a));
  bool told = false;
  for (const auto& e : events)
    if (e.kind == EventKind::dial_start && e.detail.find("beside") != std::string::npos) told = true;
  EXPECT_TRUE(told) << "the staggered dial's event does not say so";
}

TEST_F(PoolTest, StaggeredDialsAreBoundedTheOldestMakesWayForAFreshOne) {
  options.dial_stagger = 250ms;
  make_pool("https://origin.test:443");
  send();
  for (int i = 0; i < 20; ++i) advance(250ms);  // 5 s of a partition
  EXPECT_EQ(connector.dials.size(), 21u) << "one fresh dial per stagger, no more";
  EXPECT_EQ(connector.in_flight(), 3u) << "at most three pending at once";
  for (std::size_t i = 0; i + 3 < connector.dials.size(); ++i) EXPECT_TRUE(connector.dials[i]->cancelled) << i;
  end_with_requests_in_flight();
}

TEST_F(PoolTest, NoStaggeredDialBesideADialThatReachedThePeer) {
  // TCP is up and the TLS handshake is slow: the path works, the server is
  // slow, and a fresh dial would meet the same server.
  options.dial_stagger = 250ms;
  make_pool("https://origin.test:443");
  send();
  connector.dials[0]->reached = true;
  advance(2s);
  EXPECT_EQ(connector.dials.size(), 1u);
  end_with_requests_in_flight();
}

TEST_F(PoolTest, NoStaggeredDialBesideADialStillRacingItsAddressesAndOneWithinAStaggerOfTheRaceRunningOut) {
  // The dial sends a fresh SYN to its name's next address every 250 ms
  // itself (Happy Eyeballs): a whole dial beside it would start over at the
  // first address and, three dials on, cancel the one furthest along.
  options.dial_stagger = 250ms;
  make_pool("https://origin.test:443");
  send();
  connector.dials[0]->racing_addresses = true;
  for (int i = 0; i < 4; ++i) advance(250ms);
  EXPECT_EQ(connector.dials.size(), 1u) << "a staggered dial beside a racing one";
  connector.dials[0]->racing_addresses = false;  // every address tried, none answered yet
  advance(250ms);
  EXPECT_EQ(connector.dials.size(), 2u) << "the pool did not look again once the race ran out";
  end_with_requests_in_flight();
}

TEST_F(PoolTest, StaggeredDialsThatNeverConnectFailTheirRequestsWithConnectTimeoutInTime) {
  // A partition that does not heal: the rotated streak owns connect_timeout,
  // so the requests learn it as they would from one dial.
  options.dial_stagger = 250ms;
  options.connect_timeout = 2s;
  options.max_attempts = 1;
  make_pool("https://origin.test:443");
  const auto r = send();
  for (int i = 0; i < 7; ++i) advance(250ms);  // a fresh dial each time, the oldest making way
  advance(249ms);
  EXPECT_FALSE(completed(r));
  advance(1ms);
  ASSERT_TRUE(completed(r));
  ASSERT_FALSE(result(r));
  EXPECT_EQ(result(r).error().code(), errc::connect_timeout) << result(r).error().message();
  EXPECT_EQ(connector.in_flight(), 0u) << "a dial left pending after the streak failed";
}

TEST_F(PoolTest, NoStaggeredDialWhileNoRequestWaits) {
  options.dial_stagger = 250ms;
  make_pool("https://origin.test:443");
  const auto a = send();
  exchanges[a]->complete(Error(errc::cancelled, "test", progress::not_sent));
  settle();
  advance(2s);
  EXPECT_EQ(connector.dials.size(), 1u);
}

TEST_F(PoolTest, AZeroStaggerWaitsForTheOneDial) {
  options.dial_stagger = 0ms;
  make_pool("https://origin.test:443");
  send();
  advance(5s);
  EXPECT_EQ(connector.dials.size(), 1u);
  end_with_requests_in_flight();
}

// --- Retry-After -------------------------------------------------------------

TEST_F(PoolTest, RetryTable_ABusyAnswerWithRetryAfterIsRetriedAfterTheServersDelay) {
  make_pool("https://origin.test:443");
  const auto r = send();
  connector.succeed(Protocol::http2);
  settle();
  conn(0).respond(429, {{"Retry-After", "2"}});
  settle();
  EXPECT_FALSE(completed(r));
  advance(1999ms);
  EXPECT_EQ(conn(0).running().size(), 0u) << "retried before the server's delay";
  advance(1ms);
  ASSERT_EQ(conn(0).running().size(), 1u);
  conn(0).respond(200);
  settle();
  ASSERT_TRUE(completed(r));
  ASSERT_TRUE(result(r));
  EXPECT_EQ(result(r)->status(), 200);
  EXPECT_EQ(result(r)->attempts(), 2);
}

TEST_F(PoolTest, RetryTable_ABusyAnswerToAPostOrWithoutRetryAfterOrPastTheDeadlineIsTheCallersAnswer) {
  make_pool("https://origin.test:443");
  const auto post = send("POST");
  const auto bare = send();
  connector.succeed(Protocol::http2);
  settle();
  conn(0).respond(503, {{"Retry-After", "1"}});
  conn(0).respond(503);
  settle();
  ASSERT_TRUE(completed(post));
  EXPECT_EQ(result(post)->status(), 503) << "a POST without a key is not resent";
  ASSERT_TRUE(completed(bare));
  EXPECT_EQ(result(bare)->status(), 503);
  const auto late = send();  // its deadline is an hour away; the server asks for two
  conn(0).respond(429, {{"Retry-After", "7200"}});
  settle();
  ASSERT_TRUE(completed(late));
  EXPECT_EQ(result(late)->status(), 429) << "a wait past the deadline returns the answer at once";
}

// --- dial failures ----------------------------------------------------------

TEST_F(PoolTest, ADialFailureWithNoOtherWayForwardRedialsAfterBackoffForAnyMethod) {
  options.backoff_base = 100ms;
  make_pool("http://origin.test:80");
  const auto post = send("POST");
  connector.fail(errc::connect_timeout);  // a refusal redials sooner: see below
  settle();
  EXPECT_FALSE(completed(post));
  EXPECT_EQ(connector.in_flight(), 0u) << "backing off";
  advance(49ms);
  EXPECT_EQ(connector.in_flight(), 0u) << "jitter keeps at least half the delay";
  advance(51ms);
  ASSERT_EQ(connector.in_flight(), 1u);
  connector.succeed(Protocol::http1);
  settle();
  conn(0).respond(201);
  settle();
  ASSERT_TRUE(result(post));
  EXPECT_EQ(result(post)->attempts(), 2);
}

TEST_F(PoolTest, DialFailuresFailARequestOnceItsAttemptsAreSpent) {
  options.max_attempts = 3;
  make_pool("http://origin.test:80");
  const auto get = send();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(connector.in_flight(), 1u) << "dial " << i;
    connector.fail(errc::connect_timeout);
    settle();
    advance(options.backoff_max);
  }
  ASSERT_TRUE(completed(get));
  EXPECT_EQ(result(get).error().code(), errc::connect_timeout);
  EXPECT_EQ(result(get).error().attempts(), 3);
  EXPECT_EQ(connector.dials.size(), 3u);
  EXPECT_EQ(clock.pending(), 0u) << "no redial left behind";
}

// Nothing listening (ECONNREFUSED) is what a restarting server looks like:
// it will listen again in a moment, and a request that waits should get it
// within tens of milliseconds, not after a backoff grown while it was down.
// So, while a request waits, refused dials come every 25-50 ms (jittered)
// for 2 s, uncharged against max_attempts (each is one retry from the
// budget); after that, the usual exponential backoff and attempt count.
TEST_F(PoolTest, RetryTable_RefusedDialsComeEvery25To50MsForTwoSecondsUnchargedThenBackOff) {
  options.max_attempts = 5;
  options.retry_budget_min_per_second = 1000;  // this test is about the schedule, not the budget
  make_pool("http://origin.test:80");
  const auto get = send();
  // Advances 1 ms at a time until the next dial starts: the delay before it.
  auto redial_delay = [&]() -> std::chrono::milliseconds {
    for (auto waited = 0ms; waited < 10s; waited += 1ms) {
      if (connector.in_flight() > 0) return waited;
      advance(1ms);
    }
    return 10s;
  };
  auto refused_for = 0ms;
  int fast = 0;
  while (refused_for < 1900ms) {
    ASSERT_EQ(connector.in_flight(), 1u);
    connector.fail(errc::connection_refused);
    settle();
    const auto delay = redial_delay();
    ASSERT_FALSE(completed(get)) << "failed after " << fast + 1 << " refused dials in " << refused_for.count()
                                 << " ms: " << result(get).error().message();
    EXPECT_GE(delay, 25ms) << "redial " << fast;
    EXPECT_LE(delay, 50ms) << "redial " << fast;
    refused_for += delay;
    ++fast;
  }
  EXPECT_GE(fast, 38);  // about 2 s at 25-50 ms each
  // Past the window the backoff grows, and attempts count again.
  std::vector<std::chrono::milliseconds> slow;
  while (!completed(get)) {
    ASSERT_EQ(connector.in_flight(), 1u);
    connector.fail(errc::connection_refused);
    settle();
    if (completed(get)) break;
    slow.push_back(redial_delay());
  }
  ASSERT_GE(slow.size(), 2u);
  // The fourth charged redial comes after 200-400 ms (50 ms doubling, jitter keeps half).
  EXPECT_GE(slow.back(), 200ms) << "no exponential backoff after the fast window";
  EXPECT_EQ(result(get).error().code(), errc::connection_refused);
  EXPECT_GT(result(get).error().attempts(), fast) << "every dial was an attempt, charged or not";
  // Up to four more fast redials fit in the window's last 100 ms, which the
  // first loop left unmeasured; then max_attempts charged ones.
  EXPECT_LE(connector.dials.size(), static_cast<std::size_t>(fast + 1 + 4 + options.max_attempts));
}

TEST_F(PoolTest, RetryTable_FastRefusedRedialsAreRetriesFromTheBudget) {
  options.retry_budget_min_per_second = 1;  // ten in the 10 s window
  make_pool("http://origin.test:80");
  const auto get = send();
  int dials = 0;
  while (!completed(get) && dials < 100) {
    ASSERT_EQ(connector.in_flight(), 1u);
    connector.fail(errc::connection_refused);
    ++dials;
    settle();
    advance(50ms);
  }
  ASSERT_TRUE(completed(get)) << "redialed without limit";
  EXPECT_LE(dials, 12);
  EXPECT_NE(result(get).error().message().find("budget"), std::string::npos) << result(get).error().message();
}

TEST_F(PoolTest, ADialFailureDoesNotTouchRequestsABusyConnectionWillServe) {
  options.max_conns_per_origin = 2;
  make_pool("http://origin.test:80");
  send();
  connector.succeed(Protocol::http1);
  settle();
  const auto second = send("POST");  // waits; a second connection is dialed
  ASSERT_EQ(connector.in_flight(), 1u);
  connector.fail(errc::connection_refused);
  settle();
  EXPECT_FALSE(completed(second));
  EXPECT_EQ(exchanges[second]->attempts(), 0) << "not charged: a connection will serve it";
  conn(0).respond();
  settle();
  ASSERT_EQ(conn(0).running().size(), 1u);
  conn(0).respond();
  settle();
  ASSERT_TRUE(result(second));
}

TEST_F(PoolTest, WaitForReadyRequestsRideOutDialFailuresUncharged) {
  make_pool("http://origin.test:80");
  const auto patient = send("GET", true);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(connector.in_flight(), 1u);
    connector.fail(errc::connection_refused);
    settle();
    advance(options.backoff_max);
  }
  EXPECT_FALSE(completed(patient));
  connector.succeed(Protocol::http1);
  settle();
  conn(0).respond();
  settle();
  ASSERT_TRUE(result(patient));
  EXPECT_EQ(result(patient)->attempts(), 1);
}

TEST_F(PoolTest, ARequestArrivingDuringBackoffDialsAtOnceAndServesTheOthersToo) {
  options.backoff_base = 1s;
  options.dial_stagger = 0ms;  // the only timer that could be left is then a backoff
  make_pool("http://origin.test:80");
  const auto first = send();
  connector.fail(errc::connection_refused);
  settle();
  ASSERT_EQ(connector.in_flight(), 0u);
  const auto fresh = send();
  ASSERT_EQ(connector.in_flight(), 1u) << "no backoff left over holds a new request back";
  connector.succeed(Protocol::http1);
  settle();
  conn(0).respond();
  settle();
  EXPECT_TRUE(completed(first) != completed(fresh)) << "one served first";
  conn(0).respond();
  settle();
  EXPECT_TRUE(result(first));
  EXPECT_TRUE(result(fresh));
  EXPECT_EQ(clock.pending(), 0u) << "the backoff ended with the successful dial";
}

TEST_F(PoolTest, ACertificateFailureIsNotRetried) {
  make_pool("https://origin.test:443");
  const auto get = send();
  connector.fail(errc::certificate_verify_failed);
  settle();
  ASSERT_TRUE(completed(get));
  EXPECT_EQ(result(get).error().code(), errc::certificate_verify_failed);
  EXPECT_EQ(clock.pending(), 0u);
}

// TLS 1.3 rejects a client certificate after the handshake: the dial
// looked successful, but for the requests waiting behind it, it failed -
// and a redial at once would be rejected the same way, again and again.
TEST_F(PoolTest, ACertificateRejectedAfterTheHandshakeIsAFailedDialAndTheRedialWaitsItsBackoff) {
  options.max_conns_per_origin = 1;
  make_pool("https://origin.test:443");
  const auto on_connection = send("GET", true);  // wait_for_ready: both ride out failed dials
  const auto queued = send("GET", true);
  connector.succeed(Protocol::http1);
  settle();
  ASSERT_EQ(conn(0).running().size(), 1u);
  conn(0).close(Error(errc::client_certificate_rejected, "tlsv1 alert unknown ca", progress::not_sent));
  settle();
  ASSERT_TRUE(completed(on_connection));
  EXPECT_EQ(result(on_connection).error().code(), errc::client_certificate_rejected);
  EXPECT_FALSE(completed(queued));
  EXPECT_EQ(connector.in_flight(), 0u) << "redialed at once after a rejected certificate";
  advance(options.backoff_base / 2 - 1ms);
  EXPECT_EQ(connector.in_flight(), 0u) << "redialed before half the first backoff";
  advance(options.backoff_max);
  EXPECT_EQ(connector.in_flight(), 1u) << "never redialed";
  // A second rejection doubles the backoff: the streak counts it.
  connector.succeed(Protocol::http1);
  settle();
  conn(1).close(Error(errc::client_certificate_rejected, "tlsv1 alert unknown ca", progress::not_sent));
  settle();
  advance(options.backoff_base - 1ms);
  EXPECT_EQ(connector.in_flight(), 0u) << "the second backoff did not grow";
}

// Rotated TLS files: every connection made with the old material retires -
// takes nothing new, finishes what runs on it, closes - so none keeps
// presenting the old client certificate; the next request dials anew.
TEST_F(PoolTest, ConnectionsFromOlderTlsMaterialRetireFinishingWhatRunsOnThem) {
  make_pool("https://origin.test:443");
  const auto running = send();
  connector.succeed(Protocol::http2, /*tls_generation=*/1);
  settle();
  ASSERT_EQ(conn(0).running().size(), 1u);
  pool->retire_connections_older_than(2);
  settle();
  EXPECT_EQ(conn(0).state(), ConnState::draining) << "a connection with the old material still takes requests";
  const auto next = send();
  EXPECT_EQ(conn(0).running().size(), 1u) << "the retiring connection took a new request";
  ASSERT_EQ(connector.in_flight(), 1u) << "no dial for the request the retiring connection cannot take";
  connector.succeed(Protocol::http2, /*tls_generation=*/2);
  settle();
  conn(1).respond();
  conn(0).respond();
  settle();
  EXPECT_TRUE(result(running)) << "the running request did not finish on its retiring connection";
  EXPECT_TRUE(result(next));
  EXPECT_EQ(conn(0).state(), ConnState::closed);
  pool->retire_connections_older_than(2);
  settle();
  EXPECT_NE(conn(1).state(), ConnState::draining) << "a connection with the current material was retired";
}

TEST_F(PoolTest, TheRetryBudgetCapsRedials) {
  options.retry_budget_ratio = 0;
  options.retry_budget_min_per_second = 0;
  make_pool("http://origin.test:80");
  const auto get = send();
  connector.fail(errc::connection_refused);
  settle();
  ASSERT_TRUE(completed(get));
  EXPECT_NE(result(get).error().message().find("retry budget exhausted"), std::string::npos)
      << result(get).error().message();
}

// --- idle, shutdown ---------------------------------------------------------

TEST_F(PoolTest, IdleConnectionsAreReapedAfterTheIdleTimeoutAndAnEmptyPoolSaysSo) {
  options.idle_timeout = 30s;
  make_pool("http://origin.test:80");
  send();
  connector.succeed(Protocol::http1);
  settle();
  conn(0).respond();
  settle();
  clock.advance(29s);
  EXPECT_FALSE(pool->reap(clock.now()));
  EXPECT_EQ(pool->counts().ready, 1u);
  clock.advance(2s);
  EXPECT_TRUE(pool->reap(clock.now()));
  EXPECT_EQ(pool->counts(), (PoolCounts{}));
}

TEST_F(PoolTest, ShutdownFailsWaitingRequestsCancelsDialsAndClosesConnections) {
  options.max_conns_per_origin = 1;
  make_pool("http://origin.test:80");
  const auto running = send();
  connector.succeed(Protocol::http1);
  settle();
  const auto queued = send();
  pool->shutdown();
  settle();
  ASSERT_TRUE(completed(running));
  ASSERT_TRUE(completed(queued));
  EXPECT_EQ(result(queued).error().code(), errc::client_shut_down);
  EXPECT_EQ(result(running).error().code(), errc::client_shut_down);
  EXPECT_EQ(result(running).error().reached(), progress::sent);
  EXPECT_EQ(pool->counts(), (PoolCounts{}));
  const auto after = send();
  ASSERT_TRUE(completed(after));
  EXPECT_EQ(result(after).error().code(), errc::client_shut_down);
}

TEST_F(PoolTest, ShutdownCancelsADialInFlight) {
  make_pool("http://origin.test:80");
  send();
  pool->shutdown();
  settle();
  EXPECT_TRUE(connector.dials.at(0)->cancelled);
}

TEST_F(PoolTest, Invariant4_ARequestEndedByItsDeadlineCompletesOnceWhateverItsAttemptDoesAfter) {
  make_pool("https://origin.test:443");
  const auto a = send();
  const auto b = send();
  connector.succeed(Protocol::http2);
  settle();
  // Both deadlines pass (what Shard::abort does); only b's carrier hears of it.
  for (auto i : {a, b}) exchanges[i]->complete(Error(errc::deadline_exceeded, "deadline", progress::sent));
  conn(0).abandon(*exchanges[b], inflight::AttemptCarrier::Abandon::cancelled);
  conn(0).respond(200);  // a's late response
  conn(0).close(Error(errc::connection_closed, "gone"));
  settle();
  ASSERT_TRUE(completed(a));
  ASSERT_TRUE(completed(b));
  EXPECT_EQ(result(a).error().code(), errc::deadline_exceeded);
  EXPECT_EQ(result(b).error().code(), errc::deadline_exceeded);
  EXPECT_EQ(connector.dials.size(), 1u) << "nothing was retried for a finished request";
  // TearDown checks each completed exactly once and nothing was dropped.
}

TEST_F(PoolTest, Invariant4_ARequestEndedByItsDeadlineWhileQueuedIsNotCompletedAgainByShutdown) {
  make_pool("http://origin.test:80");
  const auto queued = send();  // waits for its dial
  // Its deadline passes while it waits (what Shard::abort does: no carrier to tell).
  exchanges[queued]->complete(Error(errc::deadline_exceeded, "deadline", progress::not_sent));
  pool->shutdown();
  settle();
  ASSERT_TRUE(completed(queued));
  EXPECT_EQ(result(queued).error().code(), errc::deadline_exceeded);
  // TearDown checks it completed exactly once and no second completion was dropped.
}

TEST_F(PoolTest, RetryTable_ARequestWhoseStreamedBodyWasReadIsNeverResentWhateverTheRow) {
  make_pool("https://origin.test:443");
  const auto refused = send("GET");
  const auto lost = send("PUT");
  connector.succeed(Protocol::http2);
  settle();
  // What a connection does when it pulls from Request::body_source.
  exchanges[refused]->mark_body_read();
  exchanges[lost]->mark_body_read();
  conn(0).fail_front(errc::refused_by_server, progress::refused);  // a row that retries any method
  conn(0).close(Error(errc::connection_closed, "reset by peer"));  // a PUT is idempotent
  settle();
  for (const auto i : {refused, lost}) {
    ASSERT_TRUE(completed(i)) << "request " << i << " waits to be resent";
    ASSERT_FALSE(result(i));
    EXPECT_EQ(result(i).error().attempts(), 1);
    EXPECT_NE(result(i).error().message().find("streamed body"), std::string::npos) << result(i).error().message();
  }
  EXPECT_EQ(connector.dials.size(), 1u);
}

TEST_F(PoolTest, Invariant4_AFinishedRequestWhoseAttemptFailsAfterwardsIsNotRetried) {
  make_pool("https://origin.test:443");
  const auto get = send("GET");
  connector.succeed(Protocol::http2);
  settle();
  // Its deadline passes; the carrier is not told (a race Shard::abort can lose).
  exchanges[get]->complete(Error(errc::deadline_exceeded, "deadline", progress::sent));
  conn(0).close(Error(errc::connection_closed, "reset by peer"));  // a GET lost after sending is retryable
  settle();
  ASSERT_TRUE(completed(get));
  EXPECT_EQ(result(get).error().code(), errc::deadline_exceeded);
  EXPECT_EQ(std::count_if(events.begin(), events.end(), [](const Event& e) { return e.kind == EventKind::retry; }), 0)
      << "a finished request was retried";
  EXPECT_EQ(connector.dials.size(), 1u);
}
