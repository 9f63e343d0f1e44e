// The client through real proxies from Debian, started by each test on
// 127.0.0.1: tinyproxy (HTTP/1.1 forwarding and CONNECT, basic auth) and
// microsocks (SOCKS5, username/password), in front of the embedded server.
// Both schemes, SOCKS5 with remote and local resolution, right and wrong
// credentials, NO_PROXY, a proxy restarted mid-run, a proxy that never
// answers CONNECT, and a kubeconfig's proxy-url.
#include "integration/fixtures.hpp"
#include "interop/peer_process.hpp"
#include "support/peer_skip.hpp"

#include <rebound/kube/kubeconfig.hpp>
#include <rebound/rebound.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <unistd.h>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::interop::PeerProcess;
using rebound::interop::TempDir;

namespace {

// A proxy in a child process on a loopback port (restartable on the same port).
struct ProxyProcess {
  std::vector<std::string> argv;
  std::uint16_t port = 0;
  std::filesystem::path log;
  std::unique_ptr<PeerProcess> process;

  std::string start() {  // "" or why not
    process = std::make_unique<PeerProcess>(argv, log);
    if (!process->wait_until_listening(port, 10s))
      return argv[0] + " did not start: " + process->state() + "\n" + interop::file_tail(log);
    return {};
  }
  void stop() { process.reset(); }
};

struct ProxyTest : ::testing::Test {
  void SetUp() override {
    server::ServerOptions so;
    so.tls = true;
    tls_server = std::make_unique<server::Server>(so);
    plain_server = std::make_unique<server::Server>(server::ServerOptions{});
    for (auto* s : {tls_server.get(), plain_server.get()}) {
      s->route("/via", [](const server::ServerRequest& r) {
        return server::ServerResponse{200, {}, r.header("via") + "|" + r.target};
      });
      s->start();
    }
  }

  // tinyproxy on a free port, CONNECT allowed to the TLS server's port.
  void start_tinyproxy(const std::string& basic_auth = {}) {
    const std::string exe = interop::find_program("tinyproxy");
    if (exe.empty()) REBOUND_SKIP_FOR_PEER("tinyproxy is not installed");
    const auto port = interop::free_port();
    std::string conf = "Port " + std::to_string(port) + "\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\n" +
                       "LogLevel Connect\nConnectPort " + std::to_string(tls_server->port()) + "\n";
    if (!basic_auth.empty()) conf += "BasicAuth " + basic_auth + "\n";
    if (::getuid() == 0) conf += "User nobody\nGroup nogroup\n";
    interop::write_file(dir.file("tinyproxy.conf"), conf);
    proxy = ProxyProcess{{exe, "-d", "-c", dir.file("tinyproxy.conf")}, port, dir.file("tinyproxy.log"), nullptr};
    if (auto why = proxy.start(); !why.empty()) REBOUND_SKIP_FOR_PEER(why);
  }

  void start_microsocks(const std::string& user = {}, const std::string& pass = {}) {
    const std::string exe = interop::find_program("microsocks");
    if (exe.empty()) REBOUND_SKIP_FOR_PEER("microsocks is not installed");
    const auto port = interop::free_port();
    std::vector<std::string> argv{exe, "-i", "127.0.0.1", "-p", std::to_string(port)};
    if (!user.empty()) argv.insert(argv.end(), {"-u", user, "-P", pass});
    proxy = ProxyProcess{argv, port, dir.file("microsocks.log"), nullptr};
    if (auto why = proxy.start(); !why.empty()) REBOUND_SKIP_FOR_PEER(why);
  }

  std::string proxy_url(const std::string& scheme, const std::string& userinfo = {}) const {
    return scheme + "://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(proxy.port);
  }

  // Options through `url` that trust the TLS server, recording dial events.
  Options through(const std::string& url) {
    Options o = trusting(*tls_server);
    o.proxy.url = url;
    o.on_event = [this](const Event& e) {
      std::lock_guard lock(m);
      if (e.kind == EventKind::dial_done) dials_done.push_back(e.detail);
      if (e.kind == EventKind::dial_failed) dials_failed.push_back(e.error);
    };
    return o;
  }
  std::string https(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(tls_server->port()) + "/via";
  }
  std::string http(const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(plain_server->port()) + "/via";
  }
  std::string last_dial() {
    std::lock_guard lock(m);
    return dials_done.empty() ? "" : dials_done.back();
  }

  TempDir dir{"proxy-test"};
  std::unique_ptr<server::Server> tls_server;
  std::unique_ptr<server::Server> plain_server;
  ProxyProcess proxy;
  std::mutex m;
  std::vector<std::string> dials_done;
  std::vector<error_code> dials_failed;
};

}  // namespace

TEST_F(ProxyTest, TinyproxyForwardsHttpAndTunnelsHttpsWithHttp2Inside) {
  start_tinyproxy();
  Client c(through(proxy_url("http")));
  auto plain = c.send(Request::get(http()));
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(plain->status(), 200);
  EXPECT_NE(plain->body().find("tinyproxy"), std::string::npos) << "not forwarded by the proxy: " << plain->body();
  EXPECT_EQ(plain->protocol(), Protocol::http1);
  EXPECT_NE(last_dial().find("via http://127.0.0.1:" + std::to_string(proxy.port)), std::string::npos) << last_dial();

  auto secure = c.send(Request::get(https()));
  ASSERT_TRUE(secure) << secure.error().message();
  EXPECT_EQ(secure->status(), 200);
  EXPECT_EQ(secure->protocol(), Protocol::http2) << "ALPN inside the tunnel";
  EXPECT_EQ(secure->body(), "|/via") << "a tunnel: the proxy saw no request to add Via to";
  EXPECT_NE(last_dial().find("via http://127.0.0.1:"), std::string::npos) << last_dial();
}

TEST_F(ProxyTest, TinyproxyBasicAuthRightGetsThroughWrongIsAClear407NotRetried) {
  start_tinyproxy("alice s3cret");
  Client good(through(proxy_url("http", "alice:s3cret")));
  for (const auto& u : {http(), https()}) {
    auto r = good.send(Request::get(u));
    ASSERT_TRUE(r) << u << ": " << r.error().message();
    EXPECT_EQ(r->status(), 200);
  }
  for (const std::string userinfo : {"alice:wrong", ""}) {
    Client bad(through(proxy_url("http", userinfo)));
    auto r = bad.send(Request::get(https()));
    ASSERT_FALSE(r) << "CONNECT got through with \"" << userinfo << "\"";
    EXPECT_EQ(r.error(), errc::proxy_auth_required) << r.error().message();
    // tinyproxy answers a wrong password 401 and a missing one 407.
    EXPECT_NE(r.error().message().find(userinfo.empty() ? "407" : "401"), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find("wrong"), std::string::npos) << "the password leaked: " << r.error().message();
    EXPECT_EQ(r.error().attempts(), 1) << "a refused credential is not worth another attempt";
  }
  // Forwarded http://: a 407 can only be the proxy's; a 401 may be the
  // origin's, so it is a response (tinyproxy's own, here).
  Client none(through(proxy_url("http")));
  auto missing = none.send(Request::get(http()));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), errc::proxy_auth_required) << missing.error().message();
  EXPECT_EQ(missing.error().attempts(), 1);
  Client wrong(through(proxy_url("http", "alice:wrong")));
  auto refused = wrong.send(Request::get(http()));
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->status(), 401);
}

TEST_F(ProxyTest, MicrosocksRemoteAndLocalResolutionBothSchemes) {
  start_microsocks();
  for (const std::string scheme : {"socks5h", "socks5"}) {
    Client c(through(proxy_url(scheme)));
    auto secure = c.send(Request::get(https("localhost")));
    ASSERT_TRUE(secure) << scheme << ": " << secure.error().message();
    EXPECT_EQ(secure->protocol(), Protocol::http2);
    auto plain = c.send(Request::get(http("localhost")));
    ASSERT_TRUE(plain) << scheme << ": " << plain.error().message();
    EXPECT_EQ(plain->status(), 200);
    EXPECT_NE(last_dial().find("via " + scheme + "://127.0.0.1:"), std::string::npos) << last_dial();
  }
}

TEST_F(ProxyTest, MicrosocksUsernamePasswordRightAndWrong) {
  start_microsocks("bob", "pw1");
  Client good(through(proxy_url("socks5h", "bob:pw1")));
  auto r = good.send(Request::get(https()));
  ASSERT_TRUE(r) << r.error().message();
  for (const std::string userinfo : {"bob:nope", ""}) {
    Client bad(through(proxy_url("socks5h", userinfo)));
    auto f = bad.send(Request::get(https()));
    ASSERT_FALSE(f) << userinfo;
    EXPECT_EQ(f.error(), errc::proxy_auth_required) << f.error().message();
    EXPECT_EQ(f.error().reached(), progress::not_sent);
  }
}

TEST_F(ProxyTest, NoProxyFromTheEnvironmentBypassesTheProxyOptionsOverrideIt) {
  const auto dead = unused_port();
  ::setenv("https_proxy", ("http://127.0.0.1:" + std::to_string(dead)).c_str(), 1);
  ::setenv("NO_PROXY", "example.invalid, 127.0.0.1", 1);
  Options o = trusting(*tls_server);
  o.max_attempts = 1;
  {
    Client c(o);
    auto direct = c.send(Request::get(https("127.0.0.1")));
    EXPECT_TRUE(direct) << direct.error().message();
    auto proxied = c.send(Request::get(https("localhost")));  // not in NO_PROXY: the dead proxy
    ASSERT_FALSE(proxied);
    EXPECT_EQ(proxied.error(), errc::proxy_unreachable) << proxied.error().message();
    EXPECT_EQ(proxied.error().reached(), progress::not_sent);
  }
  o.proxy.use_environment = false;  // "no proxy", whatever the environment says
  {
    Client c(o);
    auto r = c.send(Request::get(https("localhost")));
    EXPECT_TRUE(r) << r.error().message();
  }
  ::unsetenv("https_proxy");
  ::unsetenv("NO_PROXY");
}

TEST_F(ProxyTest, ARestartedProxyIsRedialedLikeAnyFailedDial) {
  start_microsocks();
  Options o = through(proxy_url("socks5h"));
  o.connect_timeout = 2s;
  Client c(o);
  ASSERT_TRUE(c.send(Request::get(https())));
  proxy.stop();  // the tunnel and its connection die with it
  auto down = c.send(Request::get(https()).timeout(3s));
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), errc::proxy_unreachable) << down.error().message();
  EXPECT_EQ(down.error().reached(), progress::not_sent);

  // A request waiting for the proxy to come back gets through once it does.
  auto waiting = std::async(std::launch::async, [&] {
    return c.send(Request::get(https()).wait_for_ready(true).timeout(10s));
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(proxy.start(), "");
  auto back = waiting.get();
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->status(), 200);
  EXPECT_EQ(c.counters().completions_dropped, 0u);
}

TEST_F(ProxyTest, AProxyThatNeverAnswersConnectIsBoundedByConnectTimeout) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::vector<boost::asio::ip::tcp::socket> held;  // accepted, never answered
  std::function<void()> accept_one = [&] {
    silent.async_accept([&](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      held.push_back(std::move(s));
      accept_one();
    });
  };
  accept_one();
  std::thread runner([&] { io.run(); });
  Options o = trusting(*tls_server);
  o.proxy.url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  o.connect_timeout = 300ms;
  o.max_attempts = 1;
  Client c(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.send(Request::get(https()).timeout(10s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::connect_timeout) << r.error().message();
  EXPECT_NE(r.error().message().find("via http://127.0.0.1:"), std::string::npos) << r.error().message();
  EXPECT_LT(elapsed_since(t0), 3s);
  EXPECT_EQ(c.counters().completions_dropped, 0u);
  io.stop();
  runner.join();
}

// client-go honours a cluster's proxy-url: so does rebound::kube, through
// tinyproxy (http://, CONNECT) and microsocks (socks5://, names resolved there).
TEST_F(ProxyTest, KubeconfigProxyUrlIsHonouredThroughTinyproxyAndMicrosocks) {
  for (const std::string kind : {"http", "socks5"}) {
    if (kind == "http") start_tinyproxy();
    else start_microsocks();
    const std::string file = dir.file("config-" + kind);
    interop::write_file(file, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                              "    server: https://localhost:" + std::to_string(tls_server->port()) + "\n"
                              "    certificate-authority: " + tls_server->certificate_file() + "\n"
                              "    proxy-url: " + proxy_url(kind) + "\n"
                              "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
    const auto config = kube::load_kubeconfig({file, ""});
    Options o = through("");
    config.apply_to(o);
    EXPECT_EQ(o.proxy.url, (kind == "http" ? "http" : "socks5h") + proxy_url(kind).substr(kind.size()));
    Client c(o);
    auto r = c.send(Request::get(config.url("/via")));
    ASSERT_TRUE(r) << kind << ": " << r.error().message();
    EXPECT_EQ(r->status(), 200);
    EXPECT_NE(last_dial().find(" via " + std::string(kind == "http" ? "http" : "socks5h") + "://127.0.0.1:" +
                               std::to_string(proxy.port)),
              std::string::npos)
        << last_dial();
    proxy.stop();
  }
}
