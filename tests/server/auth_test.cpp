// Authentication as a Kubernetes API server does it, for requests under /api
// and /apis: bearer tokens (full and read-only), basic auth, and client
// certificates required by the TLS handshake (ServerOptions::client_ca_file),
// whose CN names the user. A refused request gets kube-apiserver's 401
// Status byte for byte; the built-in test routes need no credentials.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/peer_skip.hpp"
#include "test_support.hpp"

namespace rebound::server::test {
namespace {

constexpr std::string_view kUnauthorized =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"
    "\n";

// Answers "<user> <read_only>" so a test sees who the server thinks called.
void add_whoami(Server& server) {
  server.route("/apis/whoami", [](const ServerRequest& req) {
    return ServerResponse{200, {}, req.user + " " + (req.read_only ? "read-only" : "read-write"), {}, {}};
  });
}

TEST(TokenAuth, RequestsUnderApisNeedAKnownToken) {
  if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
  ServerOptions options;
  options.bearer_tokens = {"admin-token"};
  options.read_only_tokens = {"reader-token"};
  options.basic_auth = {"bob:s3cret"};
  Server server(options);
  add_whoami(server);
  server.start();

  for (auto transport : {Transport::h1_tcp, Transport::h2c}) {
    SCOPED_TRACE(name(transport));
    auto none = curl(server, transport, "/apis/whoami");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.body, kUnauthorized);
    auto wrong = curl(server, transport, "/apis/whoami", "-H 'Authorization: Bearer nope'");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.body, kUnauthorized);
    auto admin = curl(server, transport, "/apis/whoami", "-H 'Authorization: Bearer admin-token'");
    EXPECT_EQ(admin.status, 200);
    EXPECT_EQ(admin.body, "admin read-write");
    auto reader = curl(server, transport, "/apis/whoami", "-H 'Authorization: Bearer reader-token'");
    EXPECT_EQ(reader.status, 200);
    EXPECT_EQ(reader.body, "reader read-only");
    auto basic = curl(server, transport, "/apis/whoami", "-u bob:s3cret");
    EXPECT_EQ(basic.status, 200);
    EXPECT_EQ(basic.body, "bob read-write");
    auto bad_password = curl(server, transport, "/apis/whoami", "-u bob:wrong");
    EXPECT_EQ(bad_password.status, 401);
    // /api and /apis themselves are protected; the test routes are not.
    EXPECT_EQ(curl(server, transport, "/apis").status, 401);
    EXPECT_EQ(curl(server, transport, "/api").status, 401);
    EXPECT_EQ(curl(server, transport, "/").status, 200);
    EXPECT_EQ(curl(server, transport, "/status/204").status, 204);
  }
}

TEST(TokenAuth, NothingConfiguredMeansNoCheck) {
  if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
  Server server;
  add_whoami(server);
  server.start();
  auto r = curl(server, Transport::h1_tcp, "/apis/whoami", "-H 'Authorization: Bearer anything'");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, " read-write");
}

// A CA, a client certificate it signed (CN alice) and one from another CA.
class ClientCertificates {
 public:
  ClientCertificates() {
    char tmpl[] = "/tmp/rebound-mtls-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd " + dir_ + " && openssl req -x509 " + ec + " -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1" +
        " && openssl req -x509 " + ec + " -keyout rogue-ca.key -out rogue-ca.crt -subj /CN=rogue-ca -days 1" +
        " && openssl req " + ec + " -keyout alice.key -out alice.csr -subj /CN=alice" +
        " && openssl x509 -req -in alice.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out alice.crt -days 1" +
        " && openssl req " + ec + " -keyout mallory.key -out mallory.csr -subj /CN=mallory" +
        " && openssl x509 -req -in mallory.csr -CA rogue-ca.crt -CAkey rogue-ca.key -CAcreateserial"
        " -out mallory.crt -days 1";
    ok_ = run_command(script, std::chrono::seconds(30), true).exit_code == 0;
  }
  ~ClientCertificates() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  std::string curl_args(const std::string& who) const {
    return "--cert " + path(who + ".crt") + " --key " + path(who + ".key");
  }

 private:
  std::string dir_;
  bool ok_ = false;
};

TEST(ClientCertificateAuth, HandshakeNeedsACertificateFromTheCa) {
  if (!have_tool("curl") || !have_tool("openssl")) REBOUND_SKIP_FOR_PEER("curl or openssl is not installed");
  ClientCertificates certs;
  ASSERT_TRUE(certs.ok()) << "openssl could not make the test certificates";
  ServerOptions options;
  options.tls = true;
  options.client_ca_file = certs.path("ca.crt");
  Server server(options);
  add_whoami(server);
  server.start();

  for (auto transport : {Transport::h1_tls, Transport::h2_tls}) {
    SCOPED_TRACE(name(transport));
    auto without = curl(server, transport, "/apis/whoami");
    EXPECT_NE(without.exit_code, 0) << "no certificate: the handshake must fail";
    EXPECT_EQ(without.status, 0);
    auto rogue = curl(server, transport, "/apis/whoami", certs.curl_args("mallory"));
    EXPECT_NE(rogue.exit_code, 0) << "a certificate from another CA must not pass";
    EXPECT_EQ(rogue.status, 0);
    auto alice = curl(server, transport, "/apis/whoami", certs.curl_args("alice"));
    EXPECT_EQ(alice.exit_code, 0) << alice.error;
    EXPECT_EQ(alice.status, 200);
    EXPECT_EQ(alice.body, "alice read-write") << "the certificate's CN is the user";
  }
}

TEST(ClientCertificateAuth, TokensStillDecideWhenConfigured) {
  if (!have_tool("curl") || !have_tool("openssl")) REBOUND_SKIP_FOR_PEER("curl or openssl is not installed");
  ClientCertificates certs;
  ASSERT_TRUE(certs.ok());
  ServerOptions options;
  options.tls = true;
  options.client_ca_file = certs.path("ca.crt");
  options.read_only_tokens = {"reader-token"};
  Server server(options);
  add_whoami(server);
  server.start();
  const auto alice = certs.curl_args("alice");
  EXPECT_EQ(curl(server, Transport::h2_tls, "/apis/whoami", alice).body, "alice read-write");
  EXPECT_EQ(curl(server, Transport::h2_tls, "/apis/whoami", alice + " -H 'Authorization: Bearer reader-token'").body,
            "reader read-only");
  auto wrong = curl(server, Transport::h2_tls, "/apis/whoami", alice + " -H 'Authorization: Bearer nope'");
  EXPECT_EQ(wrong.status, 401) << "a bad token is refused even with a good certificate";
  EXPECT_EQ(wrong.body, kUnauthorized);
}

TEST(ClientCertificateAuth, NeedsTls) {
  ServerOptions options;
  options.client_ca_file = "/nonexistent-ca.pem";
  Server server(options);
  EXPECT_THROW(server.start(), std::runtime_error);
}

}  // namespace
}  // namespace rebound::server::test
