// HTTP/1.1 has no PING: a peer that goes silent (a blackhole - no FIN, no
// RST, every packet dropped) is found only by the kernel, through the TCP
// options the dialer sets. An idle pooled connection is ended by TCP
// keep-alive; a request whose bytes are never acknowledged, by
// TCP_USER_TIMEOUT - each well before the request's own deadline. The
// client and the embedded server run in this process, each in a network
// namespace of a NetnsPair (tests/cli), whose partition drops every packet.
#include "cli/netns_pair.hpp"
#include "integration/fixtures.hpp"

#include "support/peer_skip.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <vector>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// While it lives, the calling thread is in the named network namespace: the
// sockets it opens, and the threads it starts (a Client's I/O threads, which
// dial), belong there.
class InNamespace {
 public:
  explicit InNamespace(const std::string& name)
      : original_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    const int target = ::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = original_ >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    if (target >= 0) ::close(target);
    if (!entered) throw std::runtime_error("cannot enter network namespace " + name);
  }
  ~InNamespace() {
    ::setns(original_, CLONE_NEWNET);
    ::close(original_);
  }
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  int original_;
};

// The connections the client closed, and why.
struct Closures {
  std::mutex m;
  std::vector<std::string> reasons;
  void hook(Options& o) {
    o.on_event = [this](const Event& e) {
      if (e.kind != EventKind::connection_closed) return;
      std::lock_guard lock(m);
      reasons.push_back(e.detail);
    };
  }
  std::size_t count() {
    std::lock_guard lock(m);
    return reasons.size();
  }
  std::string first() {
    std::lock_guard lock(m);
    return reasons.empty() ? "" : reasons.front();
  }
};

class SilentDeath : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NetnsPair::unavailable()) REBOUND_SKIP_FOR_PEER(*why);
    net_.emplace();
    server::ServerOptions so;
    so.host = net_->server_address();
    InNamespace in(net_->server_ns());
    server_ = start_server(so);
    url_ = "http://" + net_->server_address() + ":" + std::to_string(server_->port());
  }

  /// A client whose I/O thread lives in the client's namespace.
  std::unique_ptr<CheckedClient> client(const Options& o) {
    InNamespace in(net_->client_ns());
    return std::make_unique<CheckedClient>(o);
  }

  std::optional<NetnsPair> net_;
  std::unique_ptr<server::Server> server_;
  std::string url_;
};

}  // namespace

TEST_F(SilentDeath, AnIdleHttp1ConnectionToASilentPeerIsClosedByTcpKeepAlive) {
  Options o;
  o.tcp_keepalive = true;
  o.tcp_keepalive_idle = 1s;
  o.tcp_keepalive_interval = 1s;
  o.tcp_keepalive_count = 2;
  o.tcp_user_timeout = 0ms;  // keep-alive alone decides (TCP_USER_TIMEOUT would override its count)
  Closures closed;
  closed.hook(o);
  auto c = client(o);
  auto first = c->get(url_ + "/");
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_EQ(first->protocol(), Protocol::http1);

  net_->partition();
  const auto t0 = std::chrono::steady_clock::now();
  // Silent from now on: probes after 1 s idle, two unanswered 1 s apart,
  // then the kernel ends the connection (about 3 s; the reaper's idle
  // timeout is 90 s and plays no part).
  ASSERT_TRUE(eventually([&] { return closed.count() == 1; }, 15s))
      << "the idle connection to a silent peer was never closed\n" << c->dump_pools();
  EXPECT_LT(elapsed_since(t0), 10s);
  EXPECT_NE(closed.first().find("timed out"), std::string::npos) << closed.first();

  net_->heal();
  auto next = c->get(url_ + "/");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_NE(next->connection_id(), first->connection_id());
  EXPECT_EQ(c->counters().dials, 2u);
}

TEST_F(SilentDeath, AnHttp1RequestToAPeerGoneSilentEndsByTcpUserTimeoutLongBeforeItsDeadline) {
  Options o;
  o.tcp_user_timeout = 2s;  // keep-alive stays at its default (15 s idle): not what ends it
  Closures closed;
  closed.hook(o);
  auto c = client(o);
  ASSERT_TRUE(c->get(url_ + "/"));

  net_->partition();
  const auto t0 = std::chrono::steady_clock::now();
  // A POST is not retried on another connection once sent: its own
  // connection's death is what it reports.
  auto r = c->send(Request::post(url_ + "/echo", "never acknowledged").timeout(30s));
  const auto took = elapsed_since(t0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().code(), errc::deadline_exceeded) << r.error().message();
  EXPECT_LT(took, 12s) << "retransmitted for " << std::chrono::duration_cast<std::chrono::seconds>(took).count()
                       << " s: " << r.error().message();
  EXPECT_NE(r.error().message().find("timed out"), std::string::npos) << r.error().message();
  // The connection's close is reported beside the request's end, not before it.
  EXPECT_TRUE(eventually([&] { return closed.count() == 1; }, 5s)) << c->dump_pools();
}
