// cut_after_bytes: connections accepted afterwards are reset at the budget.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST_F(ProxyTest, CutResetsAConnectionOnceTheBudgetIsForwarded) {
  proxy.cut_after_bytes(1000);
  Client c(proxy.port());
  int completed = 0;
  ReadResult r;
  for (int i = 0; i < 20; ++i) {
    r = c.round_trip(pattern(100));  // 200 bytes through the proxy per round
    if (r.data.size() != 100) break;
    ++completed;
  }
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
  EXPECT_GE(completed, 4);
  EXPECT_LE(completed, 5);
  const auto st = proxy.stats();
  EXPECT_EQ(st.bytes_client_to_server + st.bytes_server_to_client, 1000u) << "the last chunk is cut to fit";
  EXPECT_TRUE(wait_until([&] { return proxy.stats().open == 0; }));
}

TEST_F(ProxyTest, CutCutsTheChunkThatCrossesTheBudget) {
  proxy.cut_after_bytes(150);
  Client c(proxy.port());
  ASSERT_FALSE(c.write(pattern(1000)));
  const ReadResult r = c.read_exactly(1000, 10000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
  EXPECT_LE(r.data.size(), 150u);
  EXPECT_TRUE(wait_until([&] { return echo.ended() == 1; }));
  EXPECT_LE(echo.bytes_received(), 150u);
}

TEST_F(ProxyTest, CutAppliesOnlyToConnectionsAcceptedAfterwards) {
  Client before(proxy.port());
  ASSERT_EQ(before.round_trip("x").data, "x");
  proxy.cut_after_bytes(100);
  const std::string big = pattern(500);
  EXPECT_EQ(before.round_trip(big).data, big);
}

TEST_F(ProxyTest, CutZeroDisablesTheBudget) {
  proxy.cut_after_bytes(100);
  proxy.cut_after_bytes(0);
  Client c(proxy.port());
  const std::string big = pattern(5000);
  EXPECT_EQ(c.round_trip(big).data, big);
}

}  // namespace
}  // namespace rebound::proxy::test
