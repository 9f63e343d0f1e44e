// FaultProxy lifecycle: the header stands alone, start binds, stop closes.
#include "rebound/proxy/fault_proxy.hpp"  // first: the header is self-contained

#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST(FaultProxyHeader, IsSelfContained) { SUCCEED(); }

TEST(FaultProxyLifecycle, PortIsZeroBeforeStartAndBoundAfter) {
  EchoServer echo;
  FaultProxy proxy(ProxyOptions{.target_port = echo.port()});
  EXPECT_EQ(proxy.port(), 0);
  proxy.start();
  EXPECT_NE(proxy.port(), 0);
}

TEST(FaultProxyLifecycle, StartingTwiceThrows) {
  EchoServer echo;
  FaultProxy proxy(ProxyOptions{.target_port = echo.port()});
  proxy.start();
  EXPECT_THROW(proxy.start(), std::logic_error);
}

TEST(FaultProxyLifecycle, BindingABusyPortThrows) {
  EchoServer echo;
  FaultProxy first(ProxyOptions{.target_port = echo.port()});
  first.start();
  FaultProxy second(ProxyOptions{.listen_port = first.port(), .target_port = echo.port()});
  EXPECT_THROW(second.start(), std::runtime_error);
}

TEST(FaultProxyLifecycle, RestartsOnTheSamePortAfterStop) {
  EchoServer echo;
  std::uint16_t port = 0;
  {
    FaultProxy first(ProxyOptions{.target_port = echo.port()});
    first.start();
    port = first.port();
    Client c(port);
    ASSERT_EQ(c.round_trip("x").data, "x");
  }  // the accepted connection is in TIME_WAIT now: SO_REUSEADDR lets us bind anyway
  FaultProxy second(ProxyOptions{.listen_port = port, .target_port = echo.port()});
  ASSERT_NO_THROW(second.start());
  Client c(port);
  EXPECT_EQ(c.round_trip("y").data, "y");
}

TEST_F(ProxyTest, StopClosesClientConnectionsAndIsIdempotent) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("hello").data, "hello");
  proxy.stop();
  proxy.stop();
  const ReadResult r = c.read_some(2000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.reset_or_eof()) << r.error.message();
}

TEST_F(ProxyTest, ControlCallsBeforeStartAndAfterStopDoNotHang) {
  FaultProxy idle(ProxyOptions{.target_port = echo.port()});
  idle.set_mode(Mode::blackhole);
  idle.set_delay(10ms);
  idle.cut_after_bytes(10);
  idle.reset_all();
  proxy.stop();
  proxy.set_mode(Mode::pass);
  proxy.reset_all();
  EXPECT_EQ(idle.stats().accepted, 0u);
}

}  // namespace
}  // namespace rebound::proxy::test
