// HTTP/2 specifics: the SETTINGS the server advertises, multiplexing, and
// 16 MiB bodies both ways over h2c and TLS, with the default 64 KiB window
// (so flow control must keep both directions moving) and a large one.
#include "support/peer_skip.hpp"
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <tuple>

#include "test_support.hpp"

namespace rebound::server::test {
namespace {

constexpr std::size_t k16MiB = std::size_t{16} << 20;

/// A route that answers "<size> <fnv1a>" for the request body.
void add_sink(Server& server) {
  server.route("/sink", [](const ServerRequest& req) {
    return ServerResponse{200, {}, std::to_string(req.body.size()) + " " + fnv1a_hex(req.body)};
  });
}

std::string noise(std::size_t n) {
  std::string out(n, '\0');
  std::uint32_t x = 12345;
  for (auto& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

TEST(H2Settings, AdvertisesMaxConcurrentStreamsAndInitialWindow) {
  if (!have_tool("nghttp")) REBOUND_SKIP_FOR_PEER("nghttp is not installed");
  ServerOptions options;
  options.max_concurrent_streams = 7;
  options.initial_window_size = 1 << 20;
  Server server(options);
  server.start();
  const CommandResult r = nghttp(server, "/");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[SETTINGS_INITIAL_WINDOW_SIZE(0x04):1048576]"), std::string::npos) << r.output;
  // The connection window is widened to match.
  EXPECT_NE(r.output.find("recv WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>"), std::string::npos)
      << r.output;
}

TEST(H2Multiplexing, ConcurrentStreamsOnOneConnection) {
  if (!have_tool("nghttp")) REBOUND_SKIP_FOR_PEER("nghttp is not installed");
  Server server;
  server.start();
  // Each answer is held for a minute, so three handlers that ran all hold a
  // stream open at once: none can have been answered (and freed) yet.
  // (Distinct URLs: nghttp fetches a repeated URL once.)
  auto run = std::async(std::launch::async, [&] {
    return run_command("nghttp -n " + server.url() + "/delay/60000?a " + server.url() + "/delay/60000?b " +
                           server.url() + "/delay/60000?c",
                       std::chrono::seconds(120), true);
  });
  EXPECT_TRUE(wait_until([&] { return server.stats().requests == 3; }, std::chrono::seconds(30)))
      << server.stats().requests << " of 3 streams reached the server";
  EXPECT_EQ(server.stats().connections_accepted, 1u);
  EXPECT_EQ(server.stats().h2_connections, 1u);
  server.kill();  // ends nghttp's wait
  const CommandResult r = run.get();
  EXPECT_NE(r.output.find("total=3, processed=0"), std::string::npos) << r.output;
}

TEST(H2Disabled, TlsNegotiatesHttp11AndPrefaceIsNotServed) {
  if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
  ServerOptions options;
  options.http2 = false;
  options.tls = true;
  Server tls(options);
  tls.start();
  const CurlResult r = curl(tls, Transport::h2_tls, "/");  // offers h2 and http/1.1 in ALPN
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.http_version, "1.1");
  EXPECT_EQ(r.status, 200);

  options.tls = false;
  Server plain(options);
  plain.start();
  EXPECT_NE(curl(plain, Transport::h2c, "/").exit_code, 0);  // prior knowledge is not accepted
  EXPECT_EQ(plain.stats().requests, 0u);
  EXPECT_EQ(plain.stats().h2_connections, 0u);
}

class H2LargeBodyTest : public ::testing::TestWithParam<std::tuple<Transport, std::uint32_t>> {
 protected:
  void SetUp() override {
    if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
    ServerOptions options;
    options.tls = uses_tls(transport());
    options.initial_window_size = std::get<1>(GetParam());
    server_ = std::make_unique<Server>(options);
    add_sink(*server_);
    server_->start();
  }
  Transport transport() const { return std::get<0>(GetParam()); }
  std::unique_ptr<Server> server_;
};

TEST_P(H2LargeBodyTest, Download16MiB) {
  const auto begin = std::chrono::steady_clock::now();
  const CurlResult r = curl(*server_, transport(), "/bytes/" + std::to_string(k16MiB));
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.http_version, uses_h2(transport()) ? "2" : "1.1");
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(r.body.size(), k16MiB);
  EXPECT_TRUE(r.body == pattern(k16MiB));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(15));
}

TEST_P(H2LargeBodyTest, Upload16MiB) {
  const std::string body = noise(k16MiB);
  TempFile file(body);
  const auto begin = std::chrono::steady_clock::now();
  const CurlResult r = curl(*server_, transport(), "/sink", "--data-binary @" + file.path());
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.http_version, uses_h2(transport()) ? "2" : "1.1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(k16MiB) + " " + fnv1a_hex(body));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(15));
}

TEST_P(H2LargeBodyTest, Echo16MiBBothWays) {
  const std::string body = noise(k16MiB);
  TempFile file(body);
  const CurlResult r = curl(*server_, transport(), "/echo", "--data-binary @" + file.path());
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.status, 200);
  ASSERT_GT(r.body.size(), k16MiB);
  EXPECT_TRUE(r.body.ends_with(body));
}

INSTANTIATE_TEST_SUITE_P(
    Transports, H2LargeBodyTest,
    ::testing::Combine(::testing::Values(Transport::h2c, Transport::h2_tls, Transport::h1_tcp),
                       ::testing::Values(65535u, 16u << 20)),
    [](const auto& info) {
      return std::string(name(std::get<0>(info.param))) + "_window" + std::to_string(std::get<1>(info.param));
    });

}  // namespace
}  // namespace rebound::server::test
