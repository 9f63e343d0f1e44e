// HTTP/2 connections as the pool counts and reaps them, against the
// embedded server over h2c: a connection that gave up streams to a stalled
// endpoint never keeps a healthy request from being sent (DESIGN.md
// invariant 7), and a connection in use is never closed as idle.
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

Options h2c() {
  Options o;
  o.http_version = HttpVersion::http2_prior_knowledge;
  return o;
}

// Health-check settings under which a connection given up twice could stay
// suspect: the defaults (a PING after 30 s without input) and none at all.
struct Health {
  const char* name;
  std::chrono::milliseconds read_idle_timeout;
};

class ClientH2PoolSlot : public ::testing::TestWithParam<Health> {};

}  // namespace

TEST_P(ClientH2PoolSlot, TwoStreamsGivenUpToAStalledEndpointDoNotKeepAHealthyRequestFromTheOriginsOnlySlot) {
  auto s = start_server();
  Options o = h2c();
  o.max_conns_per_origin = 1;
  o.read_idle_timeout = GetParam().read_idle_timeout;
  CheckedClient c(o);
  // Two streams to an endpoint that never answers time out: the first
  // probe's PING is answered, the second may not send one.
  for (int i = 0; i < 2; ++i) {
    auto stalled = c.send(Request::get(s->url() + "/delay/60000").timeout(300ms));
    ASSERT_FALSE(stalled);
    EXPECT_EQ(stalled.error().code(), errc::deadline_exceeded) << stalled.error().message();
    std::this_thread::sleep_for(100ms);  // the probe's ACK arrives
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto healthy = c.send(Request::get(s->url() + "/").timeout(5s));
  ASSERT_TRUE(healthy) << "a healthy request was never sent: " << healthy.error().message() << "\n" << c.dump_pools();
  EXPECT_EQ(healthy->status(), 200);
  EXPECT_LT(elapsed_since(t0), 3s);
  // The connection nobody can use does not linger beside the new one.
  EXPECT_TRUE(eventually([&] { return c.dump_pools().find("busy 0, draining 0") != std::string::npos; }, 5s))
      << c.dump_pools();
}

INSTANTIATE_TEST_SUITE_P(Health, ClientH2PoolSlot,
                         ::testing::Values(Health{"DefaultHealthChecks", 30s}, Health{"NoHealthChecks", 0ms}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ClientH2Pool, AConnectionUsedEveryFewHundredMillisecondsIsNotReapedAsIdle) {
  auto s = start_server();
  Options o = h2c();
  o.idle_timeout = 1500ms;  // the reaper looks every second
  std::atomic<int> closed{0};
  o.on_event = [&](const Event& e) {
    if (e.kind == EventKind::connection_closed) ++closed;
  };
  CheckedClient c(o);
  std::set<std::uint64_t> connections;
  const auto t0 = std::chrono::steady_clock::now();
  while (elapsed_since(t0) < 4500ms) {
    auto r = c.get(s->url() + "/");
    ASSERT_TRUE(r) << r.error().message();
    connections.insert(r->connection_id());
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(connections.size(), 1u) << "a connection in use was closed as idle";
  EXPECT_EQ(closed.load(), 0);
  EXPECT_EQ(s->stats().connections_accepted, 1u);
  // Left alone past the idle timeout it does go.
  EXPECT_TRUE(eventually([&] { return closed.load() == 1; }, 5s)) << c.dump_pools();
}

TEST(ClientH2Pool, RequestsWaitingForANewConnectionsLimitsGetASecondConnectionWhenTheServerAllowsOneStream) {
  server::ServerOptions so;
  so.max_concurrent_streams = 1;
  auto s = start_server(so);
  Options o = h2c();
  o.max_conns_per_origin = 2;
  CheckedClient c(o);
  // Both leave before the server's SETTINGS arrive: the slow one takes the
  // new connection's one stream, the other waits for the limits.
  std::promise<Result<Response>> slow_done, quick_done;
  const auto t0 = std::chrono::steady_clock::now();
  c.send_async(Request::get(s->url() + "/delay/3000").timeout(10s),
               [&](Result<Response> r) { slow_done.set_value(std::move(r)); });
  c.send_async(Request::get(s->url() + "/").timeout(10s), [&](Result<Response> r) { quick_done.set_value(std::move(r)); });
  auto quick = quick_done.get_future().get();
  ASSERT_TRUE(quick) << quick.error().message();
  EXPECT_LT(elapsed_since(t0), 2s) << "the second request waited for the first instead of a second connection";
  EXPECT_TRUE(slow_done.get_future().get());
  EXPECT_EQ(s->stats().connections_accepted, 2u);
}
