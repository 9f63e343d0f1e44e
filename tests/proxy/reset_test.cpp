// Mode::reset, reset_all() and a refusing upstream: peers see RST, promptly.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST_F(ProxyTest, ResetModeResetsAnEstablishedConnectionPromptly) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("before").data, "before");
  proxy.set_mode(Mode::reset);
  // set_mode returns once the RSTs are sent: the read finds one at once. (A
  // silent connection would keep it waiting the whole 10 s.)
  const ReadResult r = c.read_some(10000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.error, boost::asio::error::connection_reset) << "expected RST, not FIN: " << r.error.message();
  // The server side is reset too.
  EXPECT_TRUE(wait_until([&] { return echo.ended() == 1; }));
}

TEST_F(ProxyTest, ResetModeResetsNewConnectionsAtAccept) {
  proxy.set_mode(Mode::reset);
  for (int i = 0; i < 3; ++i) {
    Client c(proxy.port());  // the kernel completes the handshake before accept
    const ReadResult r = c.read_some(10000ms);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.error, boost::asio::error::connection_reset) << "expected RST, not FIN: " << r.error.message();
  }
  EXPECT_TRUE(wait_until([&] { return proxy.stats().accepted == 3; }));
  EXPECT_EQ(echo.accepted(), 0u) << "a connection reset at accept never reaches the server";
}

TEST_F(ProxyTest, SwitchingBackToPassForwardsNewConnectionsAgain) {
  proxy.set_mode(Mode::reset);
  proxy.set_mode(Mode::pass);
  Client c(proxy.port());
  EXPECT_EQ(c.round_trip("again").data, "again");
}

TEST_F(ProxyTest, ResetAllResetsCurrentConnectionsOnceAndKeepsPassing) {
  Client first(proxy.port());
  Client second(proxy.port());
  ASSERT_EQ(first.round_trip("1").data, "1");
  ASSERT_EQ(second.round_trip("2").data, "2");
  proxy.reset_all();
  for (Client* c : {&first, &second}) {
    const ReadResult r = c->read_some(10000ms);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.error, boost::asio::error::connection_reset) << "expected RST, not FIN: " << r.error.message();
  }
  Client later(proxy.port());
  EXPECT_EQ(later.round_trip("still passing").data, "still passing");
}

TEST(FaultProxyUpstream, ARefusingUpstreamResetsTheClient) {
  const std::size_t fds_before = rebound::testing::open_fds();
  {
    FaultProxy proxy(ProxyOptions{.target_port = unused_port()});
    proxy.start();
    Client c(proxy.port());
    const ReadResult r = c.read_some(10000ms);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.error, boost::asio::error::connection_reset) << "expected RST, not FIN: " << r.error.message();
    EXPECT_TRUE(wait_until([&] { return proxy.stats().open == 0; }));
  }
  EXPECT_EQ(rebound::testing::open_fds(), fds_before) << "file descriptors left behind";
}

}  // namespace
}  // namespace rebound::proxy::test
