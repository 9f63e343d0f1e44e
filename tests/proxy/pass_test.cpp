// Mode::pass: bytes go through unchanged both ways, FIN is passed on.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST_F(ProxyTest, PassForwardsBothWays) {
  Client c(proxy.port());
  EXPECT_EQ(c.round_trip("hello through the proxy").data, "hello through the proxy");
  EXPECT_EQ(echo.bytes_received(), 23u);
}

TEST_F(ProxyTest, PassForwardsAMegabyteIntactWhileBothDirectionsFlow) {
  Client c(proxy.port());
  const std::string sent = pattern(1 << 20);
  // Write from another thread: the echo pushes back while we are still sending.
  std::thread writer([&] { EXPECT_FALSE(c.write(sent)); });
  const ReadResult r = c.read_exactly(sent.size(), 10000ms);
  writer.join();
  ASSERT_FALSE(r.timed_out);
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_TRUE(r.data == sent);
}

TEST_F(ProxyTest, PassServesManyConnectionsAtOnce) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(std::make_unique<Client>(proxy.port()));
  for (int i = 0; i < 20; ++i) {
    const std::string m = "message " + std::to_string(i);
    EXPECT_EQ(clients[i]->round_trip(m).data, m);
  }
  EXPECT_EQ(echo.accepted(), 20u);
}

TEST_F(ProxyTest, PassPassesTheClientsHalfCloseOnAndTheServersCloseBack) {
  Client c(proxy.port());
  ASSERT_EQ(c.round_trip("ping").data, "ping");
  c.shutdown_send();
  // The echo server closes when it sees our FIN; its FIN must come back.
  const ReadResult r = c.read_some(10000ms);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.error, boost::asio::error::eof) << r.error.message();
  EXPECT_TRUE(wait_until([&] { return proxy.stats().open == 0; }));
}

}  // namespace
}  // namespace rebound::proxy::test
