// Mode::blackhole: sockets stay open, nothing moves either way, nothing
// closes; back in pass, held and later traffic flows again. Silence can
// only be watched for a while (`quiet`): on loopback a byte that the proxy
// wrongly forwarded would be back within a millisecond.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

constexpr auto quiet = 300ms;

TEST_F(ProxyTest, BlackholeAcceptsWritesButNoReplyArrivesAndNothingCloses) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("before").data, "before");
  proxy.set_mode(Mode::blackhole);
  EXPECT_FALSE(c.write("during"));
  const ReadResult r = c.read_some(quiet);
  EXPECT_TRUE(r.timed_out) << "expected silence, got data \"" << r.data << "\" / " << r.error.message();
  EXPECT_EQ(echo.bytes_received(), 6u) << "nothing may reach the server";
  EXPECT_EQ(echo.ended(), 0u) << "the server side must stay open too";
  EXPECT_EQ(proxy.stats().open, 1u);
}

TEST_F(ProxyTest, BlackholeCurrentSilencesOpenConnectionsForGoodWhileNewOnesPass) {
  Client old_path(proxy.port());
  ASSERT_EQ(old_path.round_trip("before").data, "before");
  proxy.blackhole_current();
  EXPECT_FALSE(old_path.write("lost"));
  EXPECT_TRUE(old_path.read_some(quiet).timed_out);
  Client new_path(proxy.port());
  EXPECT_EQ(new_path.round_trip("fresh").data, "fresh");
  proxy.set_mode(Mode::pass);  // even an explicit pass does not revive a severed path
  EXPECT_TRUE(old_path.read_some(quiet).timed_out);
  EXPECT_EQ(echo.ended(), 0u) << "nothing closes: only the peers' health checks can tell";
}

TEST_F(ProxyTest, BackToPassDeliversHeldAndLaterTrafficInOrder) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("before").data, "before");
  proxy.set_mode(Mode::blackhole);
  ASSERT_FALSE(c.write("during"));
  ASSERT_TRUE(c.read_some(quiet).timed_out);
  proxy.set_mode(Mode::pass);
  ASSERT_FALSE(c.write("after"));
  // As after a cable is plugged back in: what was sent meanwhile arrives first.
  const ReadResult r = c.read_exactly(11, 10000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.data, "duringafter");
}

TEST_F(ProxyTest, BlackholeHoldsNewConnectionsWithoutReachingTheServer) {
  proxy.set_mode(Mode::blackhole);
  Client c(proxy.port());
  EXPECT_FALSE(c.write("hello"));
  EXPECT_TRUE(c.read_some(quiet).timed_out);
  EXPECT_TRUE(wait_until([&] { return proxy.stats().accepted == 1; }));
  EXPECT_EQ(echo.accepted(), 0u) << "a pulled cable: the server does not even see the connection";
  proxy.set_mode(Mode::pass);
  const ReadResult r = c.read_exactly(5, 10000ms);
  EXPECT_EQ(r.data, "hello");
  EXPECT_EQ(echo.accepted(), 1u);
}

TEST_F(ProxyTest, BlackholeHidesAClientCloseFromTheServerUntilPass) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("x").data, "x");
  proxy.set_mode(Mode::blackhole);
  c.close();
  EXPECT_TRUE(holds_for([&] { return echo.ended() == 0; }, quiet))
      << "the proxy must not pass a close on while blackholed";
  proxy.set_mode(Mode::pass);
  EXPECT_TRUE(wait_until([&] { return echo.ended() == 1; }));
  EXPECT_TRUE(wait_until([&] { return proxy.stats().open == 0; }));
}

TEST_F(ProxyTest, BlackholeWithAStalledPeerDoesNotGrowWithoutBound) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("x").data, "x");
  proxy.set_mode(Mode::blackhole);
  // Non-blocking writes until the kernel buffers are full: the proxy is not
  // reading, so the client's writes must eventually stop succeeding.
  c.socket().non_blocking(true);
  const std::string block = pattern(64 * 1024);
  std::size_t accepted_bytes = 0;
  boost::system::error_code ec;
  for (int i = 0; i < 1000 && !ec; ++i) accepted_bytes += c.socket().write_some(boost::asio::buffer(block), ec);
  EXPECT_EQ(ec, boost::asio::error::would_block);
  EXPECT_LT(accepted_bytes, 64u * 1024 * 1000);
  EXPECT_EQ(echo.bytes_received(), 1u);
}

}  // namespace
}  // namespace rebound::proxy::test
