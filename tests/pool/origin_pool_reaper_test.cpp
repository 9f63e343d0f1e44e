// Specification of idle reaping (OriginPool::reap) through the fakes: a
// connection is closed as idle only after idle_timeout without a request,
// whatever its protocol reports, and closed gracefully.
#include "pool/pool_fixture.hpp"

using namespace rebound;
using namespace rebound::pool;
using namespace rebound::pool::fakes;
using namespace rebound::pool::testing;
using namespace std::chrono_literals;

TEST_F(PoolTest, AConnectionInUseIsNeverReapedAsIdleEvenWhenItsProtocolDoesNotReportIdleness) {
  options.idle_timeout = 30s;
  connector.h2_reports_idle = false;  // as HTTP/2 connections once were: idle_since() = their birth
  make_pool("https://origin.test:443");
  // One GET every 10 s for 100 s; the reaper ticks between them.
  for (int i = 0; i < 10; ++i) {
    const auto r = send();
    if (i == 0) {
      connector.succeed(Protocol::http2);
      settle();
    }
    conn(0).respond(200);
    settle();
    ASSERT_TRUE(completed(r));
    advance(10s);
    EXPECT_FALSE(pool->reap(clock.now()));
    ASSERT_EQ(connector.connections.size(), 1u) << "a connection used every 10 s was reaped as idle at " << i * 10 + 10
                                                << " s\n" << pool->dump();
    ASSERT_EQ(conn(0).state(), ConnState::ready) << pool->dump();
  }
  // Unused for the idle timeout: now it goes, and the empty pool says so.
  advance(31s);
  EXPECT_TRUE(pool->reap(clock.now())) << pool->dump();
}

TEST_F(PoolTest, AConnectionWhoseOnlyRequestOutlastedTheIdleTimeoutIsNotReapedTheMomentItEnds) {
  options.idle_timeout = 30s;
  connector.h2_reports_idle = false;
  make_pool("https://origin.test:443");
  const auto watch = send();  // a long request: a watch
  connector.succeed(Protocol::http2);
  settle();
  for (int i = 0; i < 6; ++i) {
    advance(10s);
    EXPECT_FALSE(pool->reap(clock.now()));
  }
  conn(0).respond(200);  // it ends after 60 s
  settle();
  advance(1s);
  EXPECT_FALSE(pool->reap(clock.now()));
  EXPECT_EQ(conn(0).state(), ConnState::ready) << "reaped 1 s after its request ended\n" << pool->dump();
  ASSERT_TRUE(completed(watch));
}
