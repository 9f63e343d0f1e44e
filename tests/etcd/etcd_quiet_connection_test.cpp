// etcd's gRPC server counts a PING that comes sooner than its minimum
// keepalive interval after the previous one (--grpc-keepalive-min-time, 5 s
// by default) as a strike, and the third strike ends the connection with
// GOAWAY ENHANCE_YOUR_CALM "too_many_pings". A Watch on a key nobody writes
// is the quiet connection a client keeps for hours: with the etcd backend's
// client options (idle PINGs at least 5 s apart) it is PINGed and stays
// open; the second case is the control that proves the first could fail -
// PINGs every second draw the GOAWAY within seconds.
#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"
#include "etcd_suite.hpp"

#include "election_state.hpp"

#include <rebound/grpc/channel.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

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
  void hook(rebound::Options& o) {
    o.on_event = [this](const rebound::Event& e) {
      if (e.kind == rebound::EventKind::ping_acked) ++pings_acked;
      if (e.kind != rebound::EventKind::goaway) return;
      std::lock_guard lock(m);
      goaway_detail = e.detail;
      ++goaways;
    };
  }
  std::string detail() {
    std::lock_guard lock(m);
    return goaway_detail;
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
  // Three PINGs answered (about 15 s): the third strike would have ended
  // the connection by then, were they closer than etcd allows.
  const auto until = std::chrono::steady_clock::now() + 25s;
  while (health.pings_acked < 3 && health.goaways == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(health.goaways.load(), 0) << health.detail();
  EXPECT_GE(health.pings_acked.load(), 3);
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
  options.read_idle_timeout = 1s;  // below etcd's minimum
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
  // The connection ends; the watch with it (it was answered: not resent).
  const auto status = watch.wait_for(5s);
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->ok());
}
