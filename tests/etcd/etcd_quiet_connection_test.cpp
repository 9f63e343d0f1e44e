// etcd's gRPC server counts a PING that comes sooner than its minimum
// keepalive interval after the previous one (--grpc-keepalive-min-time, 5 s
// by default) as a strike, and the third strike ends the connection with
// GOAWAY ENHANCE_YOUR_CALM "too_many_pings". A Watch on a key nobody writes
// is the quiet connection a client keeps for hours: with the etcd backend's
// client options it is PINGed, every PING at least 5 s after the one before
// (what etcd checks), and it stays open. The second case is the control
// that shows the first can fail: PINGs every second draw the GOAWAY
// within seconds.
#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"
#include "etcd_suite.hpp"

#include "election_state.hpp"

#include <rebound/grpc/channel.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace rebound::testing;
using namespace std::chrono_literals;
namespace v3 = rebound_etcd::v3;

namespace {

class EtcdQuietConnection : public EtcdSuite {};

// The connection events a test watches for.
struct Health {
  std::atomic<int> pings_acked{0};
  std::atomic<int> goaways{0};
  std::mutex m;
  std::string goaway_detail;
  std::vector<std::chrono::steady_clock::time_point> pings_sent;
  void hook(rebound::Options& o) {
    o.on_event = [this](const rebound::Event& e) {
      if (e.kind == rebound::EventKind::ping_acked) ++pings_acked;
      std::lock_guard lock(m);
      if (e.kind == rebound::EventKind::ping_sent) pings_sent.push_back(e.time);
      if (e.kind != rebound::EventKind::goaway) return;
      goaway_detail = e.detail;
      ++goaways;
    };
  }
  std::string detail() {
    std::lock_guard lock(m);
    return goaway_detail;
  }
  /// The shortest time between two PINGs sent (a day when fewer than two).
  std::chrono::milliseconds shortest_gap() {
    std::lock_guard lock(m);
    std::chrono::milliseconds gap = std::chrono::hours(24);
    for (std::size_t i = 1; i < pings_sent.size(); ++i)
      gap = std::min(gap, std::chrono::duration_cast<std::chrono::milliseconds>(pings_sent[i] - pings_sent[i - 1]));
    return gap;
  }
};

// The etcd lock backend's options (rebound elect --etcd), default timings.
rebound::Options etcd_backend_options(const EtcdCluster& cluster) {
  rebound::lease::LeaderElectionConfig cfg;
  cfg.client_options = cluster.client_options();
  return rebound::lease::detail::etcd_client_options(cfg);
}

// A Watch on a key nobody writes: a stream that carries nothing for as
// long as it runs. Answers true once etcd confirmed it.
bool open_quiet_watch(rebound::grpc::BidiCall& call, std::atomic<int>& responses) {
  v3::WatchRequest create;
  create.mutable_create_request()->set_key("quiet/never-written");
  if (!call.write(create.SerializeAsString())) return false;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (responses == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  return responses > 0;
}

}  // namespace

TEST_F(EtcdQuietConnection, AQuietWatchWithTheEtcdOptionsIsPingedAndNeverToldTooManyPings) {
  Health health;
  auto options = etcd_backend_options(*cluster);
  ASSERT_EQ(options.read_idle_timeout, 5s) << "the interval this test was written for";
  health.hook(options);
  rebound::Client client(options);
  rebound::grpc::Channel channel(client, cluster->client_url(0));
  std::atomic<int> responses{0};
  auto watch = channel.bidi_streaming(
      "/etcdserverpb.Watch/Watch", [&](std::string_view) {
        ++responses;
        return true;
      }, {.timeout = 60s});
  ASSERT_TRUE(open_quiet_watch(watch, responses));
  // Quiet for two PING intervals and a bit: each PING answered, none
  // sooner than etcd allows after the one before, no GOAWAY.
  std::this_thread::sleep_for(11s);
  EXPECT_EQ(health.goaways.load(), 0) << health.detail();
  EXPECT_GE(health.pings_acked.load(), 2);
  EXPECT_GE(health.shortest_gap(), 5s);
  EXPECT_FALSE(watch.done()) << watch.wait().to_string();
  // Still the one connection, still carrying the watch.
  v3::PutRequest put;
  put.set_key("quiet/never-written");
  put.set_value("now written");
  ASSERT_TRUE(etcd_call<v3::PutResponse>(client, cluster->client_url(0), "/etcdserverpb.KV/Put", put, 5s));
  const auto seen_by = std::chrono::steady_clock::now() + 5s;
  while (responses < 2 && std::chrono::steady_clock::now() < seen_by) std::this_thread::sleep_for(10ms);
  EXPECT_GE(responses.load(), 2) << "the watch saw the put";
  EXPECT_EQ(client.counters().dials, 1u);
  watch.cancel();
}

TEST_F(EtcdQuietConnection, PingsEverySecondOnAQuietWatchDrawGoawayTooManyPings) {
  Health health;
  auto options = etcd_backend_options(*cluster);
  // A PING every second (half a second after the last input, its ACK
  // included, and a second after the PING before): far below etcd's
  // minimum. A generous ACK deadline: a late ACK must not close the
  // connection before etcd's GOAWAY can.
  options.read_idle_timeout = 500ms;
  options.ping_timeout = 1s;
  health.hook(options);
  rebound::Client client(options);
  rebound::grpc::Channel channel(client, cluster->client_url(1));
  std::atomic<int> responses{0};
  auto watch = channel.bidi_streaming(
      "/etcdserverpb.Watch/Watch", [&](std::string_view) {
        ++responses;
        return true;
      }, {.timeout = 60s});
  ASSERT_TRUE(open_quiet_watch(watch, responses));
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (health.goaways == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(health.goaways.load(), 1);
  EXPECT_NE(health.detail().find("ENHANCE_YOUR_CALM"), std::string::npos) << health.detail();
  EXPECT_LT(health.shortest_gap(), 5s);
  watch.cancel();
}
