// Names, not IP literals. `rebound get` runs in a network namespace whose
// own hosts file maps test names to a server in a second namespace (the
// fixture the networks work reuses: NetnsPair::set_client_hosts), and the
// server - nginx, answering with the SNI it received - has a certificate
// issued for the names by a test CA. So: verification by name, SNI sent
// over HTTP/2 and HTTP/1.1, a name the certificate does not cover refused,
// an IP literal refused where the certificate names no address, and a name
// with several addresses falling through a refusing one to one that
// answers. Happy Eyeballs (RFC 8305): an address that never answers (an
// nftables drop in the server's namespace) costs the 250 ms attempt delay,
// not the connect timeout, and a dead IPv6 address loses to IPv4; a server
// that moves to another address under its name is found by a running
// client; --resolve dials a given address and still verifies the name.
#include "line_process.hpp"
#include "netns_pair.hpp"
#include "run_command.hpp"
#include "support/peer_skip.hpp"
#include "support/test_pki.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <unistd.h>

using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

const char* nginx_path() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  return nullptr;
}

class Names : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (NetnsPair::unavailable() || !nginx_path()) return;
    net_ = new NetnsPair();
    refusing_ = net_->add_server_address();  // exists, but nothing listens on it
    blackholed_ = net_->add_server_address();
    net_->blackhole(blackholed_);  // SYNs vanish: nothing refuses
    // A second address nginx listens on. getaddrinfo sorts a name's IPv4
    // addresses by the prefix they share with ours (RFC 6724 rule 9): .4
    // and .5 tie, so he.test keeps the hosts file's order.
    live2_ = net_->add_server_address();
    dead6_ = net_->add_server_address6();
    net_->blackhole(dead6_);
    hosts_ = net_->server_address() + " server.test other.test\n" + refusing_ + " multi.test\n" +
             net_->server_address() + " multi.test\n" + refusing_ + " refusing.test\n" + blackholed_ + " he.test\n" + live2_ +
             " he.test\n" + dead6_ + " v6dead.test\n" + net_->server_address() +
             " v6dead.test\n";
    net_->set_client_hosts(hosts_);
    pki_ = new TestPki();
    const auto issued = pki_->issue_server(
        "server", {"server.test", "multi.test", "refusing.test", "he.test", "v6dead.test", "resolved.test"});
    const auto dir = pki_->dir() / "nginx";
    std::filesystem::create_directories(dir / "tmp");
    std::ofstream(dir / "nginx.conf")
        << "daemon off; master_process off; worker_processes 1;\n"
        << "pid " << (dir / "nginx.pid").string() << "; error_log " << (dir / "error.log").string() << ";\n"
        << "events { worker_connections 64; }\n"
        << "http { access_log off;\n"
        << "  client_body_temp_path " << (dir / "tmp").string() << "; proxy_temp_path " << (dir / "tmp").string()
        << "; fastcgi_temp_path " << (dir / "tmp").string() << "; uwsgi_temp_path " << (dir / "tmp").string()
        << "; scgi_temp_path " << (dir / "tmp").string() << ";\n"
        << "  server { listen " << net_->server_address() << ":8443 ssl http2; listen " << live2_
        << ":8443 ssl http2;\n"
        << "    ssl_certificate " << issued.cert << "; ssl_certificate_key " << issued.key << ";\n"
        << "    location / { return 200 \"sni=$ssl_server_name\\n\"; } } }\n";
    nginx_pid_ = ::fork();
    if (nginx_pid_ == 0) {
      const auto conf = (dir / "nginx.conf").string(), prefix = dir.string();
      ::execl(NetnsPair::ip_path().c_str(), "ip", "netns", "exec", net_->server_ns().c_str(), nginx_path(), "-p",
              prefix.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // nginx writes its pid file once it listens.
    for (int i = 0; i < 500 && !std::filesystem::exists(dir / "nginx.pid"); ++i) std::this_thread::sleep_for(10ms);
  }

  static void TearDownTestSuite() {
    if (nginx_pid_ > 0) {
      ::kill(nginx_pid_, SIGKILL);
      ::waitpid(nginx_pid_, nullptr, 0);
    }
    delete pki_;
    delete net_;
  }

  void SetUp() override {
    if (auto why = NetnsPair::unavailable()) REBOUND_SKIP_FOR_PEER(*why);
    if (!nginx_path()) REBOUND_SKIP_FOR_PEER("no nginx (Debian package nginx)");
    ASSERT_TRUE(std::filesystem::exists(pki_->dir() / "nginx" / "nginx.pid"))
        << "nginx did not start:\n" << read_file((pki_->dir() / "nginx" / "error.log").string());
  }

  // `rebound get ARGS... URL` in the client's namespace, trusting the test CA.
  static Finished get(const std::string& url, std::vector<std::string> more = {}) {
    std::vector<std::string> argv{REBOUND_CLI_PATH, "get", "--cacert", pki_->ca_file(), "--timeout", "5s"};
    argv.insert(argv.end(), more.begin(), more.end());
    argv.push_back(url);
    return run_command(NetnsPair::ip_path(), net_->in_client(argv), 20s);
  }

  static Finished in_client(const std::vector<std::string>& argv) {
    return run_command(NetnsPair::ip_path(), net_->in_client(argv), 10s);
  }

  static inline NetnsPair* net_ = nullptr;
  static inline TestPki* pki_ = nullptr;
  static inline pid_t nginx_pid_ = -1;
  static inline std::string refusing_, blackholed_, live2_, dead6_, hosts_;
};

}  // namespace

TEST_F(Names, ACertificateIssuedForTheNameVerifiesAndTheNameIsSentAsSniOverBothProtocols) {
  const auto h2 = get("https://server.test:8443/");
  EXPECT_EQ(h2.exit_code, 0) << h2.err;
  EXPECT_EQ(h2.out, "sni=server.test\n") << h2.err;
  const auto h1 = get("https://server.test:8443/", {"--http1.1"});
  EXPECT_EQ(h1.exit_code, 0) << h1.err;
  EXPECT_EQ(h1.out, "sni=server.test\n") << h1.err;
}

TEST_F(Names, ANameTheCertificateDoesNotCoverIsRefusedAndSoIsTheBareAddress) {
  const auto other = get("https://other.test:8443/");  // same server, a name its certificate lacks
  EXPECT_EQ(other.exit_code, 60) << other.err;
  EXPECT_NE(other.err.find("other.test"), std::string::npos) << other.err;
  const auto literal = get("https://" + net_->server_address() + ":8443/");
  EXPECT_EQ(literal.exit_code, 60) << "the certificate names no address\n" << literal.err;
}

TEST_F(Names, ANameWithSeveralAddressesFallsThroughARefusingOneToOneThatAnswers) {
  // Preconditions: the resolver gives the refusing address first, and it
  // does refuse on its own.
  const auto order = in_client({"getent", "ahostsv4", "multi.test"});
  ASSERT_EQ(order.out.rfind(refusing_ + " ", 0), 0u) << "expected " << refusing_ << " first:\n" << order.out;
  const auto refused = get("https://refusing.test:8443/");
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;

  const auto multi = get("https://multi.test:8443/");
  EXPECT_EQ(multi.exit_code, 0) << multi.err;
  EXPECT_EQ(multi.out, "sni=multi.test\n") << multi.err;
}

namespace {

// `rebound get`'s wall time, process start included.
template <typename F>
std::chrono::milliseconds timed(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_F(Names, AFirstAddressThatNeverAnswersCostsTheAttemptDelayNotTheConnectTimeout) {
  const auto order = in_client({"getent", "ahosts", "he.test"});
  ASSERT_EQ(order.out.rfind(blackholed_ + " ", 0), 0u) << "expected " << blackholed_ << " first:\n" << order.out;
  Finished r;
  const auto took = timed([&] { r = get("https://he.test:8443/", {"--connect-timeout", "10s"}); });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sni=he.test\n") << r.err;
  // At least the attempt delay: the dead address was tried first and waited on.
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s) << "the second address waited for the first's connect timeout";
}

TEST_F(Names, ADeadIpv6AddressIsTriedFirstAndIpv4Wins) {
  const auto both = in_client({"getent", "ahosts", "v6dead.test"});
  ASSERT_NE(both.out.find(dead6_), std::string::npos) << "the resolver does not give the IPv6 address:\n" << both.out;
  Finished r;
  const auto took = timed([&] { r = get("https://v6dead.test:8443/", {"--connect-timeout", "10s"}); });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sni=v6dead.test\n") << r.err;
  EXPECT_GE(took, 250ms) << "IPv4 was tried first";
  EXPECT_LT(took, 2s);
}

TEST_F(Names, ResolveDialsTheGivenAddressesRacedAndVerifiesTheUrlsName) {
  // resolved.test is in no hosts file; its first address never answers.
  const std::string flag = "resolved.test:8443:" + blackholed_ + "," + net_->server_address();
  Finished r;
  const auto took = timed([&] { r = get("https://resolved.test:8443/", {"--resolve", flag, "--connect-timeout", "10s"}); });
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sni=resolved.test\n") << r.err;
  EXPECT_LT(took, 2s);
  // The certificate is still checked against the URL's name, not the address.
  const auto other = get("https://other.test:8443/", {"--resolve", "other.test:8443:" + net_->server_address()});
  EXPECT_EQ(other.exit_code, 60) << other.err;
  const auto bad = get("https://resolved.test:8443/", {"--resolve", "resolved.test:8443:not-an-address"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not-an-address"), std::string::npos) << bad.err;
}

TEST_F(Names, AServerRestartedOnAnotherAddressUnderItsNameIsFoundByARunningClient) {
  const std::string before = net_->server_address(), after = net_->add_server_address();
  const auto serve = [&](const std::string& address) {
    return std::make_unique<LineProcess>(
        NetnsPair::ip_path(), net_->in_server({REBOUND_CLI_PATH, "serve", "--host", address, "--port", "8080"}));
  };
  auto server = serve(before);
  ASSERT_TRUE(server->wait_for_line([](const auto&) { return true; }, 10s)) << "the server did not start";
  net_->set_client_hosts(hosts_ + before + " moved.test\n");
  // One client for every request: it resolves again when it dials again.
  LineProcess watch(NetnsPair::ip_path(),
                    net_->in_client({REBOUND_CLI_PATH, "watch", "http://moved.test:8080/", "--interval", "100ms",
                                     "--timeout", "1s", "--duration", "3s", "--json"}));
  std::this_thread::sleep_for(1s);
  server.reset();  // SIGKILL: its connections close, its address refuses
  net_->set_client_hosts(hosts_ + after + " moved.test\n");
  server = serve(after);
  ASSERT_TRUE(server->wait_for_line([](const auto&) { return true; }, 10s)) << "the server did not restart";
  ASSERT_GE(watch.wait(10s), 0) << "rebound watch did not end";
  net_->set_client_hosts(hosts_);

  std::vector<bool> ok;
  for (const auto& l : watch.lines()) {
    const auto o = boost::json::parse(l.text).as_object();
    if (!o.contains("summary")) ok.push_back(o.at("ok").as_bool());
  }
  ASSERT_GE(ok.size(), 20u);
  EXPECT_TRUE(ok.front()) << "the first request, before the move, failed";
  // The last half second: well after the restart, every request succeeds.
  for (std::size_t i = ok.size() - 5; i < ok.size(); ++i) EXPECT_TRUE(ok[i]) << "request " << i << " of " << ok.size();
}
