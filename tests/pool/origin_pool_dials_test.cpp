// Specification of the pool's slot accounting and dial planning
// (src/pool/origin_pool_dials.cpp) through the fakes: DESIGN.md invariant 7,
// "only a connection that can take a request, or is being dialed, holds a
// connection slot: a suspect or draining connection never blocks a dial".
#include "pool/pool_fixture.hpp"

using namespace rebound;
using namespace rebound::pool;
using namespace rebound::pool::fakes;
using namespace rebound::pool::testing;
using namespace std::chrono_literals;

TEST_F(PoolTest, Invariant7_ASuspectHttp2ConnectionDoesNotHoldTheOriginsOnlySlot) {
  options.max_conns_per_origin = 1;
  make_pool("https://origin.test:443");
  const auto stalled = send();
  connector.succeed(Protocol::http2);
  settle();
  // Its deadline passes (what Shard::abort does), and the connection, told
  // the stream timed out, takes nothing until it proves alive - which it
  // may never do (no PING allowed, or none configured).
  exchanges[stalled]->complete(Error(errc::deadline_exceeded, "deadline", progress::sent));
  conn(0).abandon(*exchanges[stalled], inflight::AttemptCarrier::Abandon::timed_out);
  conn(0).become_suspect();
  settle();
  const auto healthy = send();
  ASSERT_EQ(connector.in_flight(), 1u) << "a suspect connection holds the origin's only slot\n" << pool->dump();
  connector.succeed(Protocol::http2);
  settle();
  conn(1).respond(200);
  settle();
  ASSERT_TRUE(completed(healthy));
  ASSERT_TRUE(result(healthy)) << result(healthy).error().message();
}

TEST_F(PoolTest, Invariant7_ASuspectConnectionThatProvesAliveServesAgain) {
  options.max_conns_per_origin = 1;
  make_pool("https://origin.test:443");
  const auto first = send();
  connector.succeed(Protocol::http2);
  settle();
  conn(0).respond(200);
  conn(0).become_suspect();
  conn(0).prove_alive();  // the PING's ACK (any frame) arrived
  settle();
  const auto next = send();
  EXPECT_EQ(connector.dials.size(), 1u) << "no dial beside a connection that can take the request";
  conn(0).respond(200);
  settle();
  ASSERT_TRUE(completed(first));
  ASSERT_TRUE(completed(next));
  EXPECT_TRUE(result(next));
}

TEST_F(PoolTest, Invariant7_ASuspectConnectionStillAwaitingItsPeersSettingsDoesNotHoldBackTheNextDial) {
  connector.h2_limits_pending = true;  // the server's SETTINGS never come on this one
  make_pool("https://origin.test:443");
  const auto first = send();
  connector.succeed(Protocol::http2);
  settle();
  // Its only request times out before the peer's limits arrived.
  exchanges[first]->complete(Error(errc::deadline_exceeded, "deadline", progress::sent));
  conn(0).abandon(*exchanges[first], inflight::AttemptCarrier::Abandon::timed_out);
  conn(0).become_suspect();
  settle();
  const auto next = send();
  ASSERT_EQ(connector.in_flight(), 1u) << "a suspect connection's pending limits hold back the dial\n" << pool->dump();
  connector.succeed(Protocol::http2);
  settle();
  conn(1).learn_limits();
  settle();
  conn(1).respond(200);
  settle();
  ASSERT_TRUE(completed(next));
  EXPECT_TRUE(result(next));
}

TEST_F(PoolTest, ANewHttp2ConnectionWhosePeerAllowsFewerStreamsThanWaitGetsADialBesideItWhenItsLimitsArrive) {
  options.max_conns_per_origin = 2;
  connector.h2_limits_pending = true;
  connector.h2_streams = 1;  // the server's SETTINGS will say MAX_CONCURRENT_STREAMS 1
  make_pool("https://origin.test:443");
  const auto first = send();
  const auto second = send();
  connector.succeed(Protocol::http2);
  settle();
  ASSERT_EQ(conn(0).running().size(), 1u);
  EXPECT_EQ(connector.in_flight(), 0u) << "no dial while the new connection's limits are still to come";
  conn(0).learn_limits();  // room for none beside the running one
  settle();
  ASSERT_EQ(connector.in_flight(), 1u) << "the limits arrived and nobody dialed for the request left waiting\n"
                                       << pool->dump();
  connector.succeed(Protocol::http2);
  settle();
  conn(1).learn_limits();
  settle();
  conn(1).respond(200);
  settle();
  ASSERT_TRUE(completed(second));
  EXPECT_TRUE(result(second));
  conn(0).respond(200);
  settle();
  EXPECT_TRUE(completed(first));
}

TEST_F(PoolTest, Invariant7_ARequestQueuedBehindAFullConnectionThatTurnsSuspectGetsADialAtOnce) {
  options.max_conns_per_origin = 1;
  connector.h2_streams = 1;
  make_pool("https://origin.test:443");
  const auto stalled = send();
  connector.succeed(Protocol::http2);
  settle();
  const auto queued = send();  // the only slot is full: it waits
  ASSERT_EQ(connector.in_flight(), 0u);
  // The first one's deadline passes: HTTP/2 turns suspect while the stream still counts.
  exchanges[stalled]->complete(Error(errc::deadline_exceeded, "deadline", progress::sent));
  conn(0).become_suspect();
  settle();
  ASSERT_EQ(connector.in_flight(), 1u) << "the slot came free and nobody dialed for the request waiting\n"
                                       << pool->dump();
  conn(0).abandon(*exchanges[stalled], inflight::AttemptCarrier::Abandon::timed_out);
  connector.succeed(Protocol::http2);
  settle();
  conn(1).respond(200);
  settle();
  ASSERT_TRUE(completed(queued));
  EXPECT_TRUE(result(queued));
}
