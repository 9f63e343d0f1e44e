// stats(): accepted connections, bytes each way, connections open.
#include "test_support.hpp"

namespace rebound::proxy::test {
namespace {

TEST_F(ProxyTest, StatsCountAcceptedBytesAndOpenConnections) {
  EXPECT_EQ(proxy.stats().accepted, 0u);
  {
    Client a(proxy.port());
    Client b(proxy.port());
    ASSERT_EQ(a.round_trip(pattern(100)).data.size(), 100u);
    ASSERT_EQ(b.round_trip(pattern(23)).data.size(), 23u);
    // A byte is counted when the proxy's write completes, which may be just
    // after the client has read it.
    EXPECT_TRUE(wait_until([&] { return proxy.stats().bytes_server_to_client == 123; }));
    const auto st = proxy.stats();
    EXPECT_EQ(st.accepted, 2u);
    EXPECT_EQ(st.bytes_client_to_server, 123u);
    EXPECT_EQ(st.bytes_server_to_client, 123u);
    EXPECT_EQ(st.open, 2u);
  }
  EXPECT_TRUE(wait_until([&] { return proxy.stats().open == 0; })) << "closed clients leave the proxy";
  EXPECT_EQ(proxy.stats().accepted, 2u);
}

TEST_F(ProxyTest, StatsCountConnectionsResetAtAcceptAsAccepted) {
  proxy.set_mode(Mode::reset);
  Client c(proxy.port());
  EXPECT_TRUE(wait_until([&] { return proxy.stats().accepted == 1; }));
  EXPECT_EQ(proxy.stats().open, 0u);
}

}  // namespace
}  // namespace rebound::proxy::test
