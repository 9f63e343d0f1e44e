// set_delay: each forwarded chunk waits at least the delay, counted from when
// the proxy read it, in order. To make a write a chunk of its own, a test
// waits until the proxy has read the previous one (the kernel's receive
// queue of the proxy's socket is empty) instead of sleeping and hoping.
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
}

TEST_F(ProxyTest, DelayPreservesOrderAcrossManyChunks) {
  Client c(proxy.port());
  proxy.set_delay(50ms);
  std::string sent;
  for (int i = 0; i < 30; ++i) {
    const std::string m = "<" + std::to_string(i) + ">";
    ASSERT_FALSE(c.write(m));
    sent += m;
    ASSERT_TRUE(proxy_has_read_all(proxy.port(), c)) << "chunk " << i;
  }
  const ReadResult r = c.read_exactly(sent.size(), 10000ms);
  EXPECT_EQ(r.data, sent);
}

// The delay applies to chunks read from now on; lowering it must not let a
// chunk read later overtake one still held.
TEST_F(ProxyTest, ALowerDelayDoesNotLetALaterChunkOvertakeAnEarlierOne) {
  Client c(proxy.port());
  proxy.set_delay(500ms);
  ASSERT_FALSE(c.write("first,"));
  ASSERT_TRUE(proxy_has_read_all(proxy.port(), c));
  proxy.set_delay(0ms);
  ASSERT_FALSE(c.write("second"));
  const ReadResult r = c.read_exactly(12, 10000ms);
  EXPECT_EQ(r.data, "first,second");
}

TEST_F(ProxyTest, DelayedChunksOverlapRatherThanQueueOneDelayEach) {
  Client c(proxy.port());
  proxy.set_delay(500ms);
  const auto start = std::chrono::steady_clock::now();
  std::string sent;
  for (int i = 0; i < 10; ++i) {
    const std::string m = "[" + std::to_string(i) + "]";
    ASSERT_FALSE(c.write(m));
    sent += m;
    ASSERT_TRUE(proxy_has_read_all(proxy.port(), c)) << "chunk " << i;
  }
  const ReadResult r = c.read_exactly(sent.size(), 20000ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.data, sent);
  // Overlapped, ten chunks take about one delay each way (~1 s); queued one
  // delay after another they would take at least 10 x 500 ms + 500 ms.
  EXPECT_LT(elapsed, 4000ms);
}

TEST_F(ProxyTest, DelayBackToZeroForwardsPromptly) {
  Client c(proxy.port());
  proxy.set_delay(1000ms);
  ASSERT_EQ(c.round_trip("slow").data, "slow");
  proxy.set_delay(0ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c.round_trip("fast").data, "fast");
  // Still delayed, the round trip would take 2 x 1000 ms; undelayed it is
  // well under a millisecond on loopback.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
}

}  // namespace
}  // namespace rebound::proxy::test
