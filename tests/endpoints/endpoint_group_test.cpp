// EndpointGroup against several embedded servers on 127.0.0.1 standing in
// for the members of one service: round robin over the healthy ones; one
// killed (its dials are refused: skipped, requests go to the others at
// once, it is probed and used again after it restarts); one sending GOAWAY;
// one blackholed behind the fault proxy (only the health check finds it);
// a POST that may have been processed is never sent to another endpoint;
// and every endpoint down is ridden out until one comes back.
#include "integration/fixtures.hpp"

#include <rebound/endpoint_group.hpp>
#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// Three members of one service, h2c, each counting what it ran.
struct GroupRig {
  std::vector<std::unique_ptr<server::Server>> servers;
  std::atomic<EndpointGroup*> group{nullptr};
  std::unique_ptr<Client> client;
  std::unique_ptr<EndpointGroup> endpoints;
  std::mutex m;
  std::vector<EndpointEvent> events;

  explicit GroupRig(std::vector<std::string> urls = {}, Options o = {}) {
    if (urls.empty())
      for (int i = 0; i < 3; ++i) {
        servers.push_back(start_server());
        urls.push_back(servers.back()->url());
      }
    o.http_version = HttpVersion::http2_prior_knowledge;
    // The Client's GOAWAYs and dial failures reach the group.
    o.on_event = [this](const Event& e) {
      if (auto* g = group.load()) g->observe(e);
    };
    client = std::make_unique<Client>(o);
    EndpointGroupOptions go;
    go.backoff_base = 150ms;
    go.backoff_max = 600ms;
    go.on_event = [this](const EndpointEvent& e) {
      std::lock_guard lock(m);
      events.push_back(e);
    };
    endpoints = std::make_unique<EndpointGroup>(*client, urls, go);
    group = endpoints.get();
  }
  ~GroupRig() { group = nullptr; }

  EndpointState state(std::size_t i) const { return endpoints->status().at(i).state; }
  std::map<std::size_t, int> served_by(int n, const std::string& path = "/") {
    std::map<std::size_t, int> by;
    for (int i = 0; i < n; ++i) {
      auto r = endpoints->send(Request::get(path).timeout(5s));
      EXPECT_TRUE(r) << (r ? "" : r.error().message());
      if (r) ++by[r->index];
    }
    return by;
  }
  std::uint64_t ran(std::size_t i, const std::string& path) const {
    const auto stats = servers.at(i)->stats();
    const auto it = stats.requests_by_path.find(path);
    return it == stats.requests_by_path.end() ? 0 : it->second;
  }
};

}  // namespace

TEST(EndpointGroup, HealthyEndpointsServeRequestsInTurn) {
  GroupRig rig;
  const auto by = rig.served_by(12);
  EXPECT_EQ(by, (std::map<std::size_t, int>{{0, 4}, {1, 4}, {2, 4}}));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(rig.ran(i, "/"), 4u);
}

TEST(EndpointGroup, AServedResponseNamesItsEndpointAndAbsoluteUrlsUnderAnEndpointWork) {
  GroupRig rig;
  auto r = rig.endpoints->send(Request::get(rig.servers[1]->url() + "/bytes/3"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->response.body().size(), 3u);
  EXPECT_EQ(r->endpoint, rig.endpoints->endpoints().at(r->index));
  auto bad = rig.endpoints->send(Request::get("http://127.0.0.1:1/elsewhere"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), errc::invalid_url);
}

TEST(EndpointGroupFaults, AKilledEndpointIsSkippedItsRequestsMoveAtOnceAndItServesAgainAfterItRestarts) {
  GroupRig rig;
  rig.served_by(3);  // a connection to each
  rig.servers[1]->kill();
  // Every request succeeds, none waits for the dead one: its dial is
  // refused and the attempt moves on at once.
  for (int i = 0; i < 10; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = rig.endpoints->send(Request::post("/echo", "p" + std::to_string(i)).timeout(5s));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_NE(r->index, 1u);
    EXPECT_LT(elapsed_since(t0), 1s);
  }
  EXPECT_NE(rig.state(1), EndpointState::healthy);
  EXPECT_EQ(rig.ran(0, "/echo") + rig.ran(2, "/echo"), 10u) << "each POST ran once";
  rig.servers[1]->restart();
  // Probed after its backoff (at most 600 ms), then in turn again.
  ASSERT_TRUE(eventually(
      [&] {
        auto r = rig.endpoints->send(Request::get("/").timeout(5s));
        return r && r->index == 1;
      },
      5s));
  EXPECT_EQ(rig.state(1), EndpointState::healthy);
  std::lock_guard lock(rig.m);
  bool skipped = false, probed = false, healthy_again = false;
  for (const auto& e : rig.events) {
    if (e.kind != EndpointEvent::Kind::state_changed || e.index != 1) continue;
    if (e.to == EndpointState::skipped) skipped = true;
    if (skipped && e.to == EndpointState::probing) probed = true;
    if (probed && e.to == EndpointState::healthy) healthy_again = true;
  }
  EXPECT_TRUE(skipped && probed && healthy_again) << "healthy -> skipped -> probing -> healthy";
}

TEST(EndpointGroupFaults, AnEndpointThatSendsGoawayIsSkipped) {
  GroupRig rig;
  rig.served_by(3);
  rig.servers[0]->send_goaway();
  ASSERT_TRUE(eventually([&] { return rig.state(0) == EndpointState::skipped; }, 3s));
  // While skipped, the others take the requests.
  auto r = rig.endpoints->send(Request::get("/").timeout(5s));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->index, 0u);
}

TEST(EndpointGroupFaults, ABlackholedEndpointFailsItsHealthCheckAndAGetMovesToAnother) {
  auto a = start_server(), b = start_server();
  proxy::FaultProxy fault({.target_port = b->port()});
  fault.start();
  Options o;
  o.read_idle_timeout = 200ms;
  o.ping_timeout = 300ms;
  GroupRig rig({a->url(), "http://127.0.0.1:" + std::to_string(fault.port())}, o);
  rig.served_by(2);
  fault.set_mode(proxy::Mode::blackhole);  // current and new connections go silent
  const auto t0 = std::chrono::steady_clock::now();
  // Round robin sends one of these two to the silent member.
  for (int i = 0; i < 2; ++i) {
    auto r = rig.endpoints->send(Request::get("/").timeout(8s));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->index, 0u);
  }
  EXPECT_LT(elapsed_since(t0), 4s) << "read_idle_timeout + ping_timeout, then the other member";
  EXPECT_NE(rig.state(1), EndpointState::healthy);
  fault.set_mode(proxy::Mode::pass);
}

TEST(EndpointGroupFaults, APostThatMayHaveBeenProcessedIsNeverSentToAnotherEndpointButAGetIs) {
  GroupRig rig;
  rig.served_by(3);  // the next request goes to endpoint 0
  rig.servers[0]->drop_next_requests(1);
  auto post = rig.endpoints->send(Request::post("/echo", "once").timeout(5s));
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error(), errc::connection_lost_after_send) << post.error().message();
  EXPECT_EQ(rig.ran(0, "/echo"), 1u);
  EXPECT_EQ(rig.ran(1, "/echo") + rig.ran(2, "/echo"), 0u) << "never resent elsewhere";
  // A GET lost the same way is resent to another member (0 is skipped now).
  rig.servers[1]->drop_next_requests(1);
  auto get = rig.endpoints->send(Request::get("/bytes/1").timeout(5s));
  ASSERT_TRUE(get) << get.error().message();
  EXPECT_EQ(get->index, 2u);
  EXPECT_EQ(get->endpoints_tried, 2);
  EXPECT_EQ(rig.ran(1, "/bytes/1"), 1u);
}

TEST(EndpointGroupFaults, WithEveryEndpointDownARequestWaitsForTheFirstOneBackWithinItsDeadline) {
  GroupRig rig;
  rig.served_by(3);
  for (auto& s : rig.servers) s->kill();
  auto pending = std::async(std::launch::async, [&] { return rig.endpoints->send(Request::get("/").timeout(6s)); });
  std::this_thread::sleep_for(500ms);
  rig.servers[2]->restart();
  auto r = pending.get();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->index, 2u);
  auto gone = rig.endpoints->send(Request::get("/").timeout(5s));
  EXPECT_TRUE(gone) << "the one back keeps serving";
}
