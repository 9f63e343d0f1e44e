// FaultProxy lifecycle: start binds, settings made before start apply once
// it runs, stop closes and is final.
#include "rebound/proxy/fault_proxy.hpp"  // first: this file compiling proves the header stands alone

#include <future>

#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

// Runs `call` on its own thread and reports whether it returned within
// `limit`. The thread owns what it uses (shared_ptr), so a call that hangs
// fails the test instead of hanging it until ctest's timeout.
bool returns_within(std::function<void()> call, std::chrono::milliseconds limit) {
  auto done = std::make_shared<std::promise<void>>();
  auto returned = done->get_future();
  std::thread([call = std::move(call), done] {
    call();
    done->set_value();
  }).detach();
  return returned.wait_for(limit) == std::future_status::ready;
}

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
  const ReadResult r = c.read_some(10000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.error, boost::asio::error::eof) << "stop() is a plain close, not a reset: " << r.error.message();
}

// Before start() there is no I/O thread: the calls only record settings,
// and the proxy must start with them.
TEST(FaultProxyLifecycle, SettingsMadeBeforeStartTakeEffectWhenItStarts) {
  EchoServer echo;
  FaultProxy proxy(ProxyOptions{.target_port = echo.port()});
  proxy.set_mode(Mode::blackhole);
  proxy.start();
  Client c(proxy.port());
  ASSERT_FALSE(c.write("held"));
  EXPECT_TRUE(holds_for([&] { return echo.accepted() == 0; }, 300ms)) << "blackholed, yet the server saw a connection";
  proxy.set_mode(Mode::pass);
  EXPECT_EQ(c.read_exactly(4, 10000ms).data, "held");

  FaultProxy cutting(ProxyOptions{.target_port = echo.port()});
  cutting.cut_after_bytes(10);
  cutting.start();
  Client cut(cutting.port());
  ASSERT_FALSE(cut.write(pattern(100)));
  const ReadResult r = cut.read_exactly(100, 10000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.error, boost::asio::error::connection_reset) << r.error.message();
  EXPECT_LE(r.data.size(), 10u);
}

// After stop() the I/O thread is gone for good: a control call must return
// (not wait for a thread that will never run it) and must not bring the
// proxy back.
TEST(FaultProxyLifecycle, ControlCallsAfterStopReturnAndTheProxyStaysStopped) {
  EchoServer echo;
  auto proxy = std::make_shared<FaultProxy>(ProxyOptions{.target_port = echo.port()});
  proxy->start();
  const std::uint16_t port = proxy->port();
  proxy->stop();
  EXPECT_TRUE(returns_within(
      [proxy] {
        proxy->set_mode(Mode::pass);
        proxy->set_delay(10ms);
        proxy->cut_after_bytes(10);
        proxy->reset_all();
        proxy->blackhole_current();
      },
      10000ms))
      << "a control call after stop() did not return";
  boost::asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, boost::asio::error::connection_refused) << "the stopped proxy still listens";
  EXPECT_EQ(echo.accepted(), 0u);
}

}  // namespace
}  // namespace rebound::proxy::test
