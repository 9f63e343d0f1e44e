// ServerStats: what reached the server, per method and path, per protocol;
// refused requests are not counted; reset_stats() starts over.
#include "support/peer_skip.hpp"
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace rebound::server::test {
namespace {

using Response = RawConnection::Response;

TEST(Stats, CountsRequestsByMethodAndPath) {
  Server server;
  server.start();
  RawConnection c(server.port());
  Response r;
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(c.request("GET", "/?q=" + std::to_string(i), r));
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(c.request("POST", "/echo", r, "body"));
  ASSERT_FALSE(c.request("DELETE", "/status/204", r));

  const ServerStats s = server.stats();
  EXPECT_EQ(s.connections_accepted, 1u);
  EXPECT_EQ(s.h1_connections, 1u);
  EXPECT_EQ(s.h2_connections, 0u);
  EXPECT_EQ(s.requests, 6u);
  EXPECT_EQ(s.requests_by_method, (std::map<std::string, std::uint64_t>{{"GET", 3}, {"POST", 2}, {"DELETE", 1}}));
  EXPECT_EQ(s.requests_by_path,
            (std::map<std::string, std::uint64_t>{{"/", 3}, {"/echo", 2}, {"/status/204", 1}}));
}

TEST(Stats, CountsHttp2ConnectionsAndRequests) {
  if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
  Server server;
  server.start();
  const CurlResult r = curl(server, Transport::h2c, "/echo", "--data-binary x");
  ASSERT_EQ(r.status, 200);
  curl(server, Transport::h1_tcp, "/");
  const ServerStats s = server.stats();
  EXPECT_EQ(s.connections_accepted, 2u);
  EXPECT_EQ(s.h2_connections, 1u);
  EXPECT_EQ(s.h1_connections, 1u);
  EXPECT_EQ(s.requests_by_method.at("POST"), 1u);
  EXPECT_EQ(s.requests_by_path.at("/echo"), 1u);
}

TEST(Stats, RefusedRequestsAreNotCountedAndResetStartsOver) {
  Server server;
  server.start();
  server.refuse_streams(true);
  {
    RawConnection c(server.port());
    Response r;
    EXPECT_TRUE(c.request("GET", "/", r));  // fails: connection closed
  }
  EXPECT_EQ(server.stats().requests, 0u);
  EXPECT_EQ(server.stats().connections_accepted, 1u);
  server.refuse_streams(false);

  RawConnection c(server.port());
  Response r;
  ASSERT_FALSE(c.request("GET", "/", r));
  EXPECT_EQ(server.stats().requests, 1u);
  server.reset_stats();
  const ServerStats s = server.stats();
  EXPECT_EQ(s.requests, 0u);
  EXPECT_EQ(s.connections_accepted, 0u);
  EXPECT_TRUE(s.requests_by_method.empty());
  EXPECT_TRUE(s.requests_by_path.empty());
}

}  // namespace
}  // namespace rebound::server::test
