// Mode::reset, reset_all() and a refusing upstream: peers see RST, promptly.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST_F(ProxyTest, ResetModeResetsAnEstablishedConnectionPromptly) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("before").data, "before");
  const auto start = std::chrono::steady_clock::now();
  proxy.set_mode(Mode::reset);
  const ReadResult r = c.read_some(2000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
  EXPECT_EQ(r.error, boost::asio::error::connection_reset) << "expected RST, not FIN: " << r.error.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  // The server side is reset too.
  EXPECT_TRUE(wait_until([&] { return echo.ended() == 1; }));
}

TEST_F(ProxyTest, ResetModeResetsNewConnectionsAtAccept) {
  proxy.set_mode(Mode::reset);
  for (int i = 0; i < 3; ++i) {
    Client c(proxy.port());  // the kernel completes the handshake before accept
    c.write("hello");        // may already fail; the read below is what counts
    const ReadResult r = c.read_some(2000ms);
    EXPECT_FALSE(r.timed_out);
    EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
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
    const ReadResult r = c->read_some(2000ms);
    EXPECT_FALSE(r.timed_out);
    EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
  }
  Client later(proxy.port());
  EXPECT_EQ(later.round_trip("still passing").data, "still passing");
}

TEST(FaultProxyUpstream, ARefusingUpstreamResetsTheClient) {
  FaultProxy proxy(ProxyOptions{.target_port = unused_port()});
  proxy.start();
  Client c(proxy.port());
  const ReadResult r = c.read_some(2000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
  EXPECT_TRUE(wait_until([&] { return proxy.stats().open == 0; }));
}

}  // namespace
}  // namespace rebound::proxy::test
