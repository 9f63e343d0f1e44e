// TLS session resumption against the embedded server: a new connection to
// an origin resumes the session an earlier one received (OpenSSL reports
// the abbreviated handshake; dial_done says "resumed"), not across origins
// or verification settings, and not once the TLS material has reloaded.
#include "integration/fixtures.hpp"
#include "interop/peer_process.hpp"
#include "support/peer_skip.hpp"
#include "support/test_pki.hpp"

#include <rebound/rebound.hpp>

#include <gtest/gtest.h>

#include <mutex>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

struct Resumption : ::testing::Test {
  void SetUp() override {
    server::ServerOptions so;
    so.tls = true;
    server = start_server(so);
  }
  Options options(HttpVersion v) {
    Options o = trusting(*server);
    o.http_version = v;
    o.on_event = [this](const Event& e) {
      if (e.kind != EventKind::dial_done) return;
      std::lock_guard lock(m);
      dials.push_back(e.detail);
    };
    return o;
  }
  // One request on a connection of its own (closed after the response).
  void one(Client& c, const std::string& host = "127.0.0.1") {
    auto r = c.send(Request::get("https://" + host + ":" + std::to_string(server->port()) + "/")
                        .header("connection", "close"));
    ASSERT_TRUE(r) << r.error().message();
  }
  std::vector<bool> resumed() {
    std::lock_guard lock(m);
    std::vector<bool> out;
    for (const auto& d : dials) out.push_back(d.find(" resumed") != std::string::npos);
    return out;
  }
  std::unique_ptr<server::Server> server;
  std::mutex m;
  std::vector<std::string> dials;
};

}  // namespace

TEST_F(Resumption, TheSecondConnectionResumesTheFirstsSession) {
  Client c(options(HttpVersion::http1_only));
  one(c);
  one(c);
  one(c);
  EXPECT_EQ(resumed(), (std::vector<bool>{false, true, true}));
}

TEST_F(Resumption, ItIsKeyedByOriginNameAndVerification) {
  Client c(options(HttpVersion::http1_only));
  one(c, "127.0.0.1");
  one(c, "localhost");  // another origin and SNI: a full handshake
  one(c, "localhost");
  EXPECT_EQ(resumed(), (std::vector<bool>{false, false, true}));
}

TEST_F(Resumption, HTTP2ConnectionsResumeToo) {
  Client c(options(HttpVersion::automatic));
  one(c);
  // An HTTP/2 connection stays: a GOAWAY from the server closes it, and the
  // next request dials again.
  server->send_goaway(-1, 0);
  ASSERT_TRUE(eventually([&] { return c.counters().connections_closed >= 1; }, 5s));
  one(c);
  EXPECT_EQ(resumed(), (std::vector<bool>{false, true}));
}
// TLS 1.2 resumes a session (not a 1.3 ticket): OpenSSL's own s_server
// limited to 1.2. Each resumed connection must leave the session
// resumable for the next (an abrupt close must not spoil the cached one).
TEST_F(Resumption, ATls12SessionResumesAgainAndAgain) {
  const std::string exe = interop::find_program("openssl");
  if (exe.empty()) REBOUND_SKIP_FOR_PEER("openssl is not installed");
  TestPki pki;
  const auto id = pki.issue_server("s12", {"localhost"});
  const auto port = interop::free_port();
  interop::TempDir dir("tls12");
  interop::PeerProcess s_server({exe, "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", id.cert,
                                 "-key", id.key, "-www", "-quiet", "-tls1_2"},
                                dir.file("s_server.log"));
  if (!s_server.wait_until_listening(port, 10s)) REBOUND_SKIP_FOR_PEER("openssl s_server did not start");
  Options o = options(HttpVersion::http1_only);
  o.tls.ca_file = pki.ca_file();
  Client c(o);
  for (int i = 0; i < 3; ++i) {
    auto r = c.send(Request::get("https://localhost:" + std::to_string(port) + "/").header("connection", "close"));
    ASSERT_TRUE(r) << r.error().message();
  }
  EXPECT_EQ(resumed(), (std::vector<bool>{false, true, true}));
  std::lock_guard lock(m);
  EXPECT_NE(dials.back().find("ECDHE"), std::string::npos) << "not TLS 1.2: " << dials.back();
}

// A reload of the TLS material (here the CA file, rewritten) flushes the
// sessions: the next connection makes a full handshake with the new material.
TEST_F(Resumption, NotAfterTheTlsMaterialReloads) {
  interop::TempDir dir("reload");
  const std::string ca = dir.file("ca.pem");
  std::filesystem::copy_file(server->certificate_file(), ca);
  Options o = options(HttpVersion::http1_only);
  o.tls.ca_file = ca;
  o.tls.reload_interval = 50ms;
  Client c(o);
  one(c);
  one(c);
  std::filesystem::copy_file(server->certificate_file(), ca + ".new");
  std::filesystem::rename(ca + ".new", ca);  // a new inode: a rotation
  std::this_thread::sleep_for(1200ms);       // past a reload check (the reaper looks about once a second)
  one(c);
  one(c);
  EXPECT_EQ(resumed(), (std::vector<bool>{false, true, false, true}));
}
