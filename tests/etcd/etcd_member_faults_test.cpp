// The etcd lock when members fail under a leading LeaderElector, on a real
// 3-member cluster:
//
// - kill -9 the member the leader talks to (whichever its requests went to
//   last), restart it, and again, until every member was killed twice: the
//   leadership holds throughout - one term, never a moment with is_leader()
//   false, on_stopped_leading never called - because renewals move to the
//   other members within the TTL.
// - The member the leader talks to is blackholed behind the fault proxy
//   (connections stay open, nothing is forwarded): the HTTP/2 health check
//   finds the silent connection and closes it, renewals move to another
//   member, and a second candidate never leads beside the first.
//
// Leadership is checked on the record of terms (term_record.hpp) and by
// sampling is_leader() every 2 ms; which member served what, on the
// elector's own client events (request_origins.hpp).
#include "etcd_suite.hpp"
#include "request_origins.hpp"
#include "term_record.hpp"
#include "wait_for.hpp"

#include <rebound/election/leader_elector.hpp>
#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::lease::LeaderElectionConfig;
using rebound::lease::LeaderElector;
using Clock = std::chrono::steady_clock;

namespace {

// Samples is_leader() of `leader` (which must stay leader) and of the
// others (which must not lead beside it) every 2 ms.
class LeadershipSampler {
 public:
  LeadershipSampler(const LeaderElector& leader, std::vector<const LeaderElector*> others = {})
      : leader_(leader), others_(std::move(others)), thread_([this] { run(); }) {}
  ~LeadershipSampler() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int lapses() const { return lapses_; }
  int doubles() const { return doubles_; }

 private:
  void run() {
    while (!done_) {
      const bool leads = leader_.is_leader();
      if (!leads) ++lapses_;
      for (const auto* o : others_)
        if (o->is_leader() && leads) ++doubles_;
      std::this_thread::sleep_for(2ms);
    }
  }
  const LeaderElector& leader_;
  std::vector<const LeaderElector*> others_;
  std::atomic<bool> done_{false};
  std::atomic<int> lapses_{0}, doubles_{0};
  std::thread thread_;
};

}  // namespace

class EtcdMemberFaults : public EtcdSuite {
 protected:
  // A case that failed half-way leaves the next one a whole cluster.
  void TearDown() override {
    for (int i = 0; cluster && i < cluster->size(); ++i) cluster->restart(i);
  }

  // Attempts every 300 ms, a 1 s safety margin; by default leases of 5 s
  // and a 4 s renew deadline: a killed raft leader stalls etcd's writes for
  // its election timeout (1-2 s in this cluster), which the renew deadline
  // must outlast.
  static LeaderElectionConfig config(const std::vector<std::string>& endpoints, const std::string& key,
                                     const std::string& identity, std::chrono::milliseconds lease = 5s) {
    LeaderElectionConfig c;
    c.etcd_endpoints = endpoints;
    c.client_options = cluster->client_options();
    c.name = key;
    c.identity = identity;
    c.unique_identity = false;
    c.lease_duration = lease;
    c.renew_deadline = lease - 1s;
    c.retry_period = 300ms;
    return c;
  }

  // The member whose client URL is `origin`; -1 when none is.
  static int member_of(const std::string& origin) {
    for (int i = 0; i < cluster->size(); ++i)
      if (cluster->client_url(i) == origin) return i;
    return -1;
  }
};

TEST_F(EtcdMemberFaults, KillingTheMemberTheLeaderTalksToMovesRenewalsOnForEveryMemberTwice) {
  RequestOrigins origins;
  TermRecord terms;
  std::atomic<int> stopped_leading{0};
  auto c = config(cluster->client_urls(), "faults/member-kill", "a");
  c.client_options.on_event = origins.hook();
  c.on_event = terms.hook();
  c.on_stopped_leading = [&] { ++stopped_leading; };
  LeaderElector a(c);
  a.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader(); }, 10s)) << "never led";
  LeadershipSampler sampler(a);

  std::map<int, int> kills;
  std::string sequence;
  for (int round = 0; round < 10 && (kills[0] < 2 || kills[1] < 2 || kills[2] < 2); ++round) {
    const std::string talked_to = origins.last_started();
    const int member = member_of(talked_to);
    ASSERT_GE(member, 0) << "the leader's last request went to " << talked_to;
    cluster->kill(member);
    const auto killed = Clock::now();
    ++kills[member];
    sequence += std::to_string(member) + " ";
    // Within the TTL: a renewal, its keepalive and Txn answered by another member.
    ASSERT_TRUE(wait_for([&] { return terms.renewals_since("a", killed) >= 1 && origins.answered_since(killed, talked_to) >= 2; },
                         c.lease_duration))
        << "renewals did not move on after member " << member << " was killed (kills so far: " << sequence << ")\n"
        << terms.describe();
    std::printf("member %d killed: renewals moved on within %lld ms\n", member,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count()));
    cluster->restart(member);
  }
  sampler.stop();

  // Whichever member the elector moved to (it skips one that does not
  // answer in time, as during a raft election), each was killed twice.
  EXPECT_TRUE(kills[0] >= 2 && kills[1] >= 2 && kills[2] >= 2) << "members killed in turn: " << sequence;
  EXPECT_EQ(sampler.lapses(), 0) << "is_leader() was false for a moment";
  EXPECT_EQ(stopped_leading.load(), 0);
  ASSERT_EQ(terms.terms_of("a").size(), 1u) << terms.describe();
  EXPECT_TRUE(terms.terms_of("a").front().open) << terms.describe();
  a.stop();
}

TEST_F(EtcdMemberFaults, ABlackholedMemberIsFoundByTheHealthCheckAndRenewalsMoveWithoutADoubleLeader) {
  // Member 0 is reached through the proxy by the leader, directly by the
  // other candidate, which never leads while the leader renews.
  rebound::proxy::FaultProxy proxy({.target_port = static_cast<std::uint16_t>(
                                        std::stoi(cluster->client_url(0).substr(cluster->client_url(0).rfind(':') + 1)))});
  proxy.start();
  const std::string proxied = "http://127.0.0.1:" + std::to_string(proxy.port());

  RequestOrigins origins;
  TermRecord terms;
  // No raft election here: 3 s leases, a 2 s renew deadline.
  auto ca = config({proxied, cluster->client_url(1), cluster->client_url(2)}, "faults/blackhole", "a", 3s);
  ca.client_options.on_event = origins.hook();
  ca.on_event = terms.hook();
  LeaderElector a(ca);
  a.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader(); }, 10s)) << "never led";
  ASSERT_EQ(origins.last_started(), proxied);

  auto cb = config({cluster->client_url(1), cluster->client_url(2), cluster->client_url(0)}, "faults/blackhole", "b", 3s);
  cb.on_event = terms.hook();
  LeaderElector b(cb);
  b.start();
  LeadershipSampler sampler(a, {&b});
  ASSERT_TRUE(wait_for([&] { return b.leader() == "a"; }, 5s)) << "b never saw a lead";

  proxy.set_mode(rebound::proxy::Mode::blackhole);
  const auto blackholed = Clock::now();
  // The renewal on the silent connection times out; the connection turns
  // suspect, its probe PING is never answered, and the health check
  // closes it - well within the renew deadline.
  const bool closed = wait_for(
      [&] { return origins.closed_since(blackholed, proxied, rebound::errc::health_check_failed) >= 1; }, ca.renew_deadline);
  EXPECT_TRUE(closed) << "the silent connection was not closed by its health check:\n"
                      << origins.describe(blackholed, proxied);
  if (closed) std::printf("blackholed: the health check closed the connection within %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - blackholed).count()));
  // Renewals go on through the other members, past a whole lease.
  EXPECT_TRUE(wait_for([&] { return origins.answered_since(blackholed, proxied) >= 4; }, ca.renew_deadline));
  std::this_thread::sleep_for(ca.lease_duration - (Clock::now() - blackholed));
  EXPECT_GE(terms.renewals_since("a", blackholed), 4) << terms.describe();
  EXPECT_NE(origins.last_started(), proxied) << "requests still go to the blackholed member";

  sampler.stop();
  EXPECT_EQ(sampler.lapses(), 0) << "the leader lapsed while a member was silent\n" << terms.describe();
  EXPECT_EQ(sampler.doubles(), 0);
  EXPECT_EQ(terms.overlaps(), "");
  EXPECT_TRUE(terms.terms_of("b").empty()) << terms.describe();
  b.stop();
  a.stop();
}
