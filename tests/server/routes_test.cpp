// Every built-in route and user routes, over each transport (HTTP/1.1 over
// TCP and TLS, HTTP/2 over TLS via ALPN, h2c prior knowledge), with curl as
// the client. TLS is verified against the server's self-signed certificate.
#include "support/peer_skip.hpp"
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "test_support.hpp"

namespace rebound::server::test {
namespace {

class RoutesTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
    ServerOptions options;
    options.tls = uses_tls(GetParam());
    server_ = std::make_unique<Server>(options);
    server_->start();
  }

  CurlResult get(const std::string& path, const std::string& extra = "") {
    CurlResult r = curl(*server_, GetParam(), path, extra);
    EXPECT_EQ(r.exit_code, 0) << r.error;
    EXPECT_EQ(r.http_version, uses_h2(GetParam()) ? "2" : "1.1");
    return r;
  }

  std::string protocol() const { return uses_h2(GetParam()) ? "HTTP/2" : "HTTP/1.1"; }

  std::unique_ptr<Server> server_;
};

TEST_P(RoutesTest, RootAnswersShortText) {
  const CurlResult r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "rebound test server\n");
}

TEST_P(RoutesTest, BytesReturnsExactlyNPatternBytes) {
  for (std::size_t n : {0u, 1u, 1000u, 100000u}) {
    const CurlResult r = get("/bytes/" + std::to_string(n));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, pattern(n)) << "n=" << n;
  }
  EXPECT_EQ(get("/bytes/abc").status, 400);
}

TEST_P(RoutesTest, DelayAnswersAfterTheDelay) {
  const auto begin = std::chrono::steady_clock::now();
  const CurlResult r = get("/delay/300");
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "delayed 300 ms\n");
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_P(RoutesTest, StatusReturnsTheCode) {
  CurlResult r = get("/status/418");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "status 418\n");
  r = get("/status/503");
  EXPECT_EQ(r.status, 503);
  r = get("/status/204");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
}

TEST_P(RoutesTest, EchoReturnsMethodHeadersAndBody) {
  const CurlResult r = get("/echo?x=1", "-X PUT -H \"X-Test: yes\" --data-binary hello-body");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.starts_with("PUT /echo?x=1 " + protocol() + "\n")) << r.body;
  EXPECT_NE(r.body.find("\nx-test: yes\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\nhost: 127.0.0.1:" + std::to_string(server_->port()) + "\n"), std::string::npos) << r.body;
  EXPECT_TRUE(r.body.ends_with("\n\nhello-body")) << r.body;
}

TEST_P(RoutesTest, HeadGetsHeadersWithoutBody) {
  const CurlResult r = get("/bytes/500", "-I");
  EXPECT_EQ(r.status, 200);
  // -I writes the headers as the body; HTTP/1.1 header case is the server's choice.
  std::string headers = r.body;
  std::transform(headers.begin(), headers.end(), headers.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_NE(headers.find("content-length: 500\r\n"), std::string::npos) << r.body;
  EXPECT_EQ(headers.find("\r\n\r\n"), headers.size() - 4) << "no body after the headers";
}

TEST_P(RoutesTest, UnknownPathIs404) { EXPECT_EQ(get("/no/such/thing").status, 404); }

TEST_P(RoutesTest, UserRoutesExactPrefixAndOverride) {
  server_->route("/hello", [](const ServerRequest& req) {
    return ServerResponse{201, {{"X-Route", "hello"}}, "hi " + req.method + " " + req.protocol};
  });
  server_->route("/api/*", [](const ServerRequest& req) { return ServerResponse{200, {}, "api:" + req.path}; });
  server_->route("/", [](const ServerRequest&) { return ServerResponse{200, {}, "overridden"}; });
  server_->route("/throws", [](const ServerRequest&) -> ServerResponse { throw std::runtime_error("boom"); });

  CurlResult r = get("/hello", "-i");  // headers before the body in the output file
  EXPECT_EQ(r.status, 201);
  EXPECT_TRUE(r.body.ends_with("\r\n\r\nhi GET " + protocol())) << r.body;
  // HTTP/2 lower-cases header names; HTTP/1.1 keeps the handler's spelling.
  EXPECT_NE(r.body.find(uses_h2(GetParam()) ? "x-route: hello\r\n" : "X-Route: hello\r\n"), std::string::npos)
      << r.body;
  EXPECT_EQ(get("/api/v1/items?q=2").body, "api:/api/v1/items");
  EXPECT_EQ(get("/").body, "overridden");
  EXPECT_EQ(get("/hello/more").status, 404);  // exact routes do not match longer paths
  r = get("/throws");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
}

TEST_P(RoutesTest, ConnectionCountedWithItsProtocol) {
  get("/");
  const ServerStats s = server_->stats();
  EXPECT_EQ(s.connections_accepted, 1u);
  EXPECT_EQ(s.h2_connections, uses_h2(GetParam()) ? 1u : 0u);
  EXPECT_EQ(s.h1_connections, uses_h2(GetParam()) ? 0u : 1u);
}

INSTANTIATE_TEST_SUITE_P(AllTransports, RoutesTest,
                         ::testing::Values(Transport::h1_tcp, Transport::h1_tls, Transport::h2_tls, Transport::h2c),
                         [](const auto& info) { return std::string(name(info.param)); });

TEST(ServerCertificate, SelfSignedCertificateHasTheLoopbackNames) {
  if (!have_tool("openssl")) REBOUND_SKIP_FOR_PEER("openssl CLI is not installed");
  ServerOptions options;
  options.tls = true;
  Server server(options);
  EXPECT_TRUE(server.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  const CommandResult text = run_command("openssl x509 -noout -text -in " + server.certificate_file());
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.output.find("IP Address:127.0.0.1"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("DNS:localhost"), std::string::npos) << text.output;
}

TEST(ServerCertificate, PlainServerHasNoCertificate) {
  Server server;
  EXPECT_EQ(server.certificate_pem(), "");
  EXPECT_EQ(server.certificate_file(), "");
  server.start();
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));
}

TEST(ServerCertificate, TemporaryCertificateFileIsRemovedWithTheServer) {
  std::string file;
  {
    ServerOptions options;
    options.tls = true;
    Server server(options);
    file = server.certificate_file();
    EXPECT_TRUE(std::filesystem::exists(file));
  }
  EXPECT_FALSE(std::filesystem::exists(file));
}

}  // namespace
}  // namespace rebound::server::test
