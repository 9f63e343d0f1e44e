// Client certificates against nginx with ssl_verify_client on: the server
// sees our certificate's subject over HTTP/2 and HTTP/1.1, the chain's
// intermediate is sent, a missing or untrusted certificate is refused, and
// rotating the certificate files mid-run switches new connections to the
// new certificate without failing a single request, and a resumed session
// never carries the old certificate past a rotation.
#include "support/peer_skip.hpp"
#include "support/test_pki.hpp"
#include "interop/peer_process.hpp"
#include "interop/peers.hpp"

#include <rebound/rebound.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::interop;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// Copies `from` over `to` the way rotations do: a new file renamed into place.
void replace_file(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".new";
  std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(tmp, to);
}

struct MutualTlsNginx : ::testing::Test {
  void SetUp() override {
    auto started = start_peer(PeerKind::nginx, Transport::tls, PeerOptions{pki.ca_file()});
    if (!started.peer) REBOUND_SKIP_FOR_PEER(started.skip_reason);
    nginx = std::move(started.peer);
  }
  Options client_as(const TestPki::Issued& id, HttpVersion v = HttpVersion::automatic) const {
    Options o;
    o.tls.ca_file = nginx->ca_file();
    o.tls.cert_file = id.cert;
    o.tls.key_file = id.key;
    o.http_version = v;
    return o;
  }
  // The client's certificate files ("live"), holding CN=old-identity's
  // pair, and CN=new-identity's pair that a test rotates into them.
  struct RotatingIdentity {
    TestPki::Issued live, next;
  };
  RotatingIdentity rotating_identity() {
    const auto old_id = pki.issue_client("old", "old-identity");
    const auto new_id = pki.issue_client("new", "new-identity");
    const TestPki::Issued live{pki.path("live.pem"), pki.path("live.key")};
    replace_file(old_id.cert, live.cert);
    replace_file(old_id.key, live.key);
    return {live, new_id};
  }
  TestPki pki;
  std::unique_ptr<Peer> nginx;
};

}  // namespace

TEST_F(MutualTlsNginx, TheServerSeesOurCertificatesSubjectOverHttp2AndHttp1) {
  const auto alice = pki.issue_client("alice", "alice");
  for (const auto v : {HttpVersion::automatic, HttpVersion::http1_only}) {
    Client c(client_as(alice, v));
    auto r = c.get(nginx->url("/whoami"));
    ASSERT_TRUE(r) << r.error().message() << nginx->diagnostics();
    EXPECT_EQ(r->status(), 200) << r->body();
    EXPECT_EQ(r->body(), "CN=alice");
    EXPECT_EQ(r->protocol(), v == HttpVersion::automatic ? Protocol::http2 : Protocol::http1);
  }
}

TEST_F(MutualTlsNginx, AChainSendsItsIntermediateToAServerThatTrustsOnlyTheRoot) {
  const auto bob = pki.issue_client("bob", "bob", /*via_intermediate=*/true);
  Client c(client_as(bob));
  auto r = c.get(nginx->url("/whoami"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 200) << r->body();
  EXPECT_EQ(r->body(), "CN=bob");
}

TEST_F(MutualTlsNginx, AMissingOrUntrustedCertificateIsRefusedByTheServer) {
  // nginx answers these at the HTTP level (400, "No required SSL
  // certificate was sent" / "The SSL certificate error") rather than
  // failing the handshake.
  Options none;
  none.tls.ca_file = nginx->ca_file();
  Client anonymous(none);
  auto r = anonymous.get(nginx->url("/whoami"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 400);
  EXPECT_NE(r->body().find("No required SSL certificate"), std::string::npos) << r->body();

  TestPki stranger("someone-else-ca");
  Client impostor(client_as(stranger.issue_client("mallory", "mallory")));
  auto r2 = impostor.get(nginx->url("/whoami"));
  ASSERT_TRUE(r2) << r2.error().message();
  EXPECT_EQ(r2->status(), 400);
  EXPECT_NE(r2->body().find("SSL certificate error"), std::string::npos) << r2->body();
}

TEST_F(MutualTlsNginx, RotatedCertificateFilesSwitchNewConnectionsWithoutFailingARequest) {
  const auto rotating = rotating_identity();
  const auto& live = rotating.live;
  const auto& new_id = rotating.next;

  Options o = client_as(live, HttpVersion::http1_only);
  o.tls.reload_interval = 1s;
  std::mutex m;
  std::vector<std::string> reloads;
  o.on_event = [&](const Event& e) {
    if (e.kind != EventKind::tls_reloaded) return;
    std::lock_guard lock(m);
    reloads.push_back(e.error ? "unusable" : "loaded");
  };
  Client c(o);

  // Each request on a new connection (Connection: close), so every one shows
  // which certificate a new connection presents at that moment.
  std::vector<std::string> subjects;
  int failures = 0;
  std::string first_failure;
  auto one = [&] {
    auto r = c.send(Request::get(nginx->url("/whoami")).header("connection", "close"));
    if (!r || r->status() != 200) {
      if (++failures == 1) first_failure = r ? std::to_string(r->status()) + " " + r->body() : r.error().message();
      return;
    }
    subjects.push_back(r->body());
  };
  for (int i = 0; i < 5; ++i) one();
  replace_file(new_id.cert, live.cert);  // the key follows a moment later:
  one();                                 // a check in between sees a mismatch and keeps the old pair
  replace_file(new_id.key, live.key);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until && (subjects.empty() || subjects.back() != "CN=new-identity")) {
    one();
    std::this_thread::sleep_for(20ms);
  }
  for (int i = 0; i < 5; ++i) one();

  EXPECT_EQ(failures, 0) << "first failure: " << first_failure;
  ASSERT_FALSE(subjects.empty());
  EXPECT_EQ(subjects.front(), "CN=old-identity");
  EXPECT_EQ(subjects.back(), "CN=new-identity") << "new connections never used the rotated files";
  // Once switched, never back.
  const auto first_new = std::find(subjects.begin(), subjects.end(), "CN=new-identity");
  EXPECT_TRUE(std::all_of(first_new, subjects.end(), [](const auto& s) { return s == "CN=new-identity"; }));
  std::lock_guard lock(m);
  EXPECT_FALSE(reloads.empty());
  EXPECT_EQ(reloads.empty() ? "" : reloads.back(), "loaded");
}

// A rotated certificate must stop being presented: a busy HTTP/2
// connection would otherwise keep the old identity for as long as it
// lives (hours, for a controller's API connection). client-go closes them;
// rebound retires them - they take nothing new, finish what runs, close.
TEST_F(MutualTlsNginx, ARotationRetiresOpenConnectionsSoNoneKeepsPresentingTheOldCertificate) {
  const auto rotating = rotating_identity();
  const auto& live = rotating.live;
  const auto& new_id = rotating.next;
  Options o = client_as(live);  // HTTP/2 by ALPN: one long-lived connection
  o.tls.reload_interval = 1s;
  std::mutex m;
  std::vector<std::string> closes;
  o.on_event = [&](const Event& e) {
    if (e.kind != EventKind::connection_closed) return;
    std::lock_guard lock(m);
    closes.push_back(e.detail);
  };
  Client c(o);
  auto first = c.get(nginx->url("/whoami"));
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_EQ(first->body(), "CN=old-identity");
  ASSERT_EQ(first->protocol(), Protocol::http2);
  replace_file(new_id.cert, live.cert);
  replace_file(new_id.key, live.key);
  std::optional<Response> last;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    auto r = c.get(nginx->url("/whoami"));
    ASSERT_TRUE(r) << r.error().message();
    last = std::move(*r);
    if (last->body() != "CN=old-identity") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body(), "CN=new-identity") << "the open connection kept presenting the rotated certificate";
  EXPECT_NE(last->connection_id(), first->connection_id());
  std::lock_guard lock(m);
  ASSERT_FALSE(closes.empty()) << "the old connection was never closed";
  EXPECT_NE(closes.front().find("TLS"), std::string::npos) << closes.front();
}

// Resumption against nginx (TLS 1.3 tickets): the second connection's
// handshake is abbreviated. A resumed session carries the client
// certificate it was made with - nginx reads the subject from the session -
// so after a rotation the next connection must make a full handshake and
// show the new identity, not resume as the old one.
TEST_F(MutualTlsNginx, ASecondConnectionResumesButNotAcrossACertificateRotation) {
  const auto rotating = rotating_identity();
  const auto& live = rotating.live;
  const auto& new_id = rotating.next;
  Options o = client_as(live, HttpVersion::http1_only);
  o.tls.reload_interval = 50ms;
  std::mutex m;
  std::vector<bool> resumed;
  o.on_event = [&](const Event& e) {
    if (e.kind != EventKind::dial_done) return;
    std::lock_guard lock(m);
    resumed.push_back(e.detail.find(" resumed") != std::string::npos);
  };
  Client c(o);
  std::vector<std::string> subjects;
  auto one = [&] {  // on a connection of its own
    auto r = c.send(Request::get(nginx->url("/whoami")).header("connection", "close"));
    ASSERT_TRUE(r) << r.error().message();
    subjects.push_back(r->body());
  };
  one();
  one();
  replace_file(new_id.cert, live.cert);
  replace_file(new_id.key, live.key);
  std::this_thread::sleep_for(1200ms);  // past a reload check (about once a second)
  one();
  one();
  EXPECT_EQ(subjects, (std::vector<std::string>{"CN=old-identity", "CN=old-identity", "CN=new-identity", "CN=new-identity"}));
  std::lock_guard lock(m);
  EXPECT_EQ(resumed, (std::vector<bool>{false, true, false, true}));
}

namespace {

// `openssl s_server -Verify 1`: refuses a missing or untrusted client
// certificate with a TLS alert, not with an HTTP answer.
struct TlsVerifyingServer : ::testing::Test {
  void SetUp() override {
    const std::string bin = find_program("openssl");
    if (bin.empty()) REBOUND_SKIP_FOR_PEER("openssl is not installed (Debian package openssl)");
    const auto server_id = pki.issue_client("server", "127.0.0.1");  // any certificate will do: trusted by file
    for (int attempt = 0; attempt < 3 && !process; ++attempt) {
      port = free_port();
      auto p = std::make_unique<PeerProcess>(
          std::vector<std::string>{bin, "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                                   server_id.cert, "-key", server_id.key, "-CAfile", pki.ca_file(), "-Verify", "1", "-verify_return_error",
                                   "-www", "-alpn", "http/1.1"},
          pki.path("s_server.log"));
      if (p->wait_until_listening(port, 10s)) process = std::move(p);
    }
    ASSERT_TRUE(process) << "openssl s_server did not start";
  }
  Options client(const std::optional<TestPki::Issued>& id, HttpVersion v) {
    Options o;
    o.tls.verify_peer = false;  // the server's certificate is not what this is about
    if (id) {
      o.tls.cert_file = id->cert;
      o.tls.key_file = id->key;
    }
    o.http_version = v;
    return o;
  }
  TestPki pki;
  std::uint16_t port = 0;
  std::unique_ptr<PeerProcess> process;
};

}  // namespace

TEST_F(TlsVerifyingServer, AMissingOrUntrustedClientCertificateIsNamedAndNotRetried) {
  TestPki stranger("someone-else-ca");
  const auto mallory = stranger.issue_client("mallory", "mallory");
  for (const auto& id : {std::optional<TestPki::Issued>{}, std::optional<TestPki::Issued>{mallory}}) {
    for (const auto v : {HttpVersion::http1_only, HttpVersion::automatic}) {
      SCOPED_TRACE(std::string(id ? "untrusted certificate" : "no certificate") +
                   (v == HttpVersion::http1_only ? ", HTTP/1.1" : ", ALPN"));
      std::atomic<int> dials{0};
      Options o = client(id, v);
      o.on_event = [&](const Event& e) {
        if (e.kind == EventKind::dial_start) ++dials;
      };
      Client c(o);
      auto r = c.get("https://127.0.0.1:" + std::to_string(port) + "/");
      ASSERT_FALSE(r) << r->status();
      EXPECT_EQ(r.error(), errc::client_certificate_rejected) << r.error().message();
      EXPECT_NE(r.error().message().find("alert"), std::string::npos) << r.error().message();
      EXPECT_EQ(r.error().attempts(), 1) << "a rejected certificate was tried again: " << r.error().message();
      c.shutdown();
      EXPECT_EQ(dials.load(), 1);
    }
  }
}

// TLS 1.3 rejects a client certificate only after the handshake, so the
// dial looks successful: it must still count as a failed dial, and a
// request that waits for readiness must redial after backoff, not in a
// handshake storm.
TEST_F(TlsVerifyingServer, ARejectedCertificateIsRedialedWithBackoffNotInAStorm) {
  TestPki stranger("someone-else-ca");
  const auto mallory = stranger.issue_client("mallory", "mallory");
  for (const auto v : {HttpVersion::http1_only, HttpVersion::automatic}) {
    SCOPED_TRACE(v == HttpVersion::http1_only ? "HTTP/1.1" : "ALPN");
    std::atomic<int> dials{0};
    Options o = client(mallory, v);
    o.wait_for_ready = true;
    o.on_event = [&](const Event& e) {
      if (e.kind == EventKind::dial_start) ++dials;
    };
    Client c(o);
    // Three at once: one rides the connection and is rejected on it; the
    // others wait in the queue for the redial.
    std::vector<std::future<Result<Response>>> answers;
    for (int i = 0; i < 3; ++i) {
      auto p = std::make_shared<std::promise<Result<Response>>>();
      answers.push_back(p->get_future());
      c.send_async(Request::get("https://127.0.0.1:" + std::to_string(port) + "/").timeout(2s),
                   [p](Result<Response> r) { p->set_value(std::move(r)); });
    }
    std::string last_error;
    for (auto& a : answers) {
      ASSERT_EQ(a.wait_for(10s), std::future_status::ready);
      auto r = a.get();
      ASSERT_FALSE(r) << r->status();
      last_error = r.error().message();
    }
    c.shutdown();
    // Backoff from 50 ms doubling to 2 s: about 6 dials in 2 s; a storm is hundreds.
    EXPECT_LE(dials.load(), 12) << "redialed without backoff: " << last_error;
  }
}

TEST_F(TlsVerifyingServer, ATrustedClientCertificateGetsThrough) {
  const auto alice = pki.issue_client("alice", "alice");
  Client c(client(alice, HttpVersion::http1_only));
  auto r = c.get("https://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 200);
  EXPECT_NE(r->body().find("alice"), std::string::npos) << "s_server -www shows the client's certificate";
}
