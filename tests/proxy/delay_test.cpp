// set_delay: each forwarded chunk waits at least the delay, in order.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST_F(ProxyTest, DelayAddsAtLeastTheDelayEachWayToARoundTrip) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("warm").data, "warm");
  proxy.set_delay(200ms);
  const auto start = std::chrono::steady_clock::now();
  const ReadResult r = c.round_trip("slow");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.data, "slow");
  EXPECT_GE(elapsed, 400ms) << "client to server and server to client are both delayed";
  EXPECT_LT(elapsed, 3000ms);
}

TEST_F(ProxyTest, DelayPreservesOrderAcrossManyChunks) {
  Client c(proxy.port());
  proxy.set_delay(50ms);
  std::string sent;
  for (int i = 0; i < 30; ++i) {
    const std::string m = "<" + std::to_string(i) + ">";
    ASSERT_FALSE(c.write(m));
    sent += m;
    std::this_thread::sleep_for(5ms);  // separate chunks, not one coalesced write
  }
  const ReadResult r = c.read_exactly(sent.size(), 5000ms);
  EXPECT_EQ(r.data, sent);
}

TEST_F(ProxyTest, DelayedChunksOverlapRatherThanQueueOneDelayEach) {
  Client c(proxy.port());
  proxy.set_delay(300ms);
  const auto start = std::chrono::steady_clock::now();
  std::string sent;
  for (int i = 0; i < 5; ++i) {
    const std::string m = "[" + std::to_string(i) + "]";
    ASSERT_FALSE(c.write(m));
    sent += m;
    std::this_thread::sleep_for(20ms);
  }
  const ReadResult r = c.read_exactly(sent.size(), 5000ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.data, sent);
  // Serialised, five chunks would take 5 x 600 ms; overlapped, about 700 ms.
  EXPECT_LT(elapsed, 2000ms);
}

TEST_F(ProxyTest, DelayBackToZeroForwardsPromptly) {
  Client c(proxy.port());
  proxy.set_delay(300ms);
  ASSERT_EQ(c.round_trip("slow").data, "slow");
  proxy.set_delay(0ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.round_trip("fast").data, "fast");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);
}

}  // namespace
}  // namespace rebound::proxy::test
