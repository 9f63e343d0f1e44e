// Leader election on a real 3-member etcd cluster (the etcd lock backend of
// rebound::lease::LeaderElector): racing electors never both lead, a leader
// that dies without releasing is replaced within the TTL and a retry
// period, a released lock is taken at once, and killing the member the
// leader talks to does not end its leadership (renewals move on).
// Between attempts the electors watch the key: a release is taken, and a
// key deleted behind the leader ends its leadership, at once rather than a
// retry period later.
// "Never both lead" is checked on the fencing bound itself: a sampler reads
// is_leader() of every elector every few milliseconds.
#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"
#include "etcd_suite.hpp"

#include <rebound/election/leader_elector.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::lease::LeaderElectionConfig;
using rebound::lease::LeaderElector;
using Clock = std::chrono::steady_clock;

namespace {

class EtcdElection : public EtcdSuite {
 protected:

  // Leases of 4 s (etcd's minimum is 1.5 election timeouts), a 3 s renew
  // deadline (1 s margin), attempts every 300 ms.
  static LeaderElectionConfig config(const std::string& key, const std::string& identity) {
    LeaderElectionConfig c;
    c.etcd_endpoints = cluster->client_urls();
    c.client_options = cluster->client_options();
    c.name = key;
    c.identity = identity;
    c.lease_duration = 4s;
    c.renew_deadline = 3s;
    c.retry_period = 300ms;
    return c;
  }

  // Attempts 3-6.6 s apart (retry period 3 s, jitter 1.2): what an
  // elector sees between them, it sees through the watch.
  static LeaderElectionConfig slow_retry_config(const std::string& key, const std::string& identity) {
    auto c = config(key, identity);
    c.lease_duration = 6s;
    c.renew_deadline = 4s;
    c.retry_period = 3s;
    return c;
  }

  static bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return condition();
  }

};

// Samples is_leader() of the electors until stopped; counts the samples
// in which more than one was leader.
class DoubleLeaderSampler {
 public:
  explicit DoubleLeaderSampler(std::vector<const LeaderElector*> electors)
      : electors_(std::move(electors)), thread_([this] { run(); }) {}
  ~DoubleLeaderSampler() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int double_leader_samples() const { return doubles_.load(); }

 private:
  void run() {
    while (!done_) {
      int leaders = 0;
      for (const auto* e : electors_) leaders += e->is_leader() ? 1 : 0;
      if (leaders > 1) ++doubles_;
      std::this_thread::sleep_for(2ms);
    }
  }
  std::vector<const LeaderElector*> electors_;
  std::atomic<bool> done_{false};
  std::atomic<int> doubles_{0};
  std::thread thread_;
};

}  // namespace

TEST_F(EtcdElection, RacingElectorsNeverBothLeadAndALeaderThatDiesIsReplacedWithinTtlAndARetryPeriod) {
  auto ca = config("election/race", "a");
  ca.release_on_cancel = false;  // stopping it is dying: nothing handed back
  auto cb = ca;
  cb.identity = "b";
  LeaderElector a(ca), b(cb);
  DoubleLeaderSampler sampler({&a, &b});
  a.start();
  b.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader() || b.is_leader(); }, 10s)) << "nobody became leader";
  std::this_thread::sleep_for(1500ms);  // several renewal rounds with both racing
  LeaderElector& leader = a.is_leader() ? a : b;
  LeaderElector& follower = a.is_leader() ? b : a;
  EXPECT_EQ(follower.leader(), leader.identity());

  const auto died = Clock::now();
  leader.stop();
  ASSERT_TRUE(wait_for([&] { return follower.is_leader(); }, 10s)) << "no takeover";
  const auto takeover = Clock::now() - died;
  // The key lives out the granted TTL (4 s) from the last keepalive; the
  // follower tries every 300-660 ms.
  EXPECT_LT(takeover, 4s + 660ms + 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count();
  EXPECT_GT(takeover, 1500ms) << "the dead leader's key should have outlived it for most of its TTL";
  sampler.stop();
  EXPECT_EQ(sampler.double_leader_samples(), 0);
  follower.stop();
}

TEST_F(EtcdElection, AReleasedLockIsTakenAtOnce) {
  LeaderElector a(config("election/release", "a"));
  a.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader(); }, 10s));
  LeaderElector b(config("election/release", "b"));
  b.start();
  std::this_thread::sleep_for(700ms);
  EXPECT_FALSE(b.is_leader());
  const auto released = Clock::now();
  a.stop();  // release_on_cancel: LeaseRevoke deletes the key
  ASSERT_TRUE(wait_for([&] { return b.is_leader(); }, 5s));
  EXPECT_LT(Clock::now() - released, 2s) << "taken on the next attempt, not after the TTL";
  b.stop();
}

TEST_F(EtcdElection, KillingTheMemberTheLeaderTalksToDoesNotEndLeadership) {
  std::atomic<int> stopped_leading{0};
  std::atomic<int> renewals{0};
  auto c = config("election/member-killed", "a");
  c.on_stopped_leading = [&] { ++stopped_leading; };
  c.on_event = [&](const rebound::lease::ElectionEvent& e) {
    if (e.kind == rebound::lease::ElectionEventKind::renewed) ++renewals;
  };
  LeaderElector a(c);  // talks to member 0 first
  a.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader(); }, 10s));
  std::atomic<bool> lapsed{false};
  std::atomic<bool> sampling{true};
  std::thread watch([&] {
    while (sampling) {
      if (!a.is_leader()) lapsed = true;
      std::this_thread::sleep_for(2ms);
    }
  });
  cluster->kill(0);
  const int before = renewals.load();
  // Longer than the lease: only renewals through other members keep it.
  std::this_thread::sleep_for(5s);
  sampling = false;
  watch.join();
  EXPECT_FALSE(lapsed.load()) << "is_leader() was false for a moment after the member died";
  EXPECT_EQ(stopped_leading.load(), 0);
  EXPECT_GT(renewals.load(), before + 3) << "renewals should continue through the other members";
  a.stop();
  cluster->restart(0);
}

TEST_F(EtcdElection, ReboundElectOnEtcdRunsTheCommandWhileLeadingThenReleasesTheKey) {
  // The first URL refuses connections: elect moves on to the next member.
  std::string urls = "http://127.0.0.1:1";
  for (const auto& u : cluster->client_urls()) urls += "," + u;
  const std::string command = std::string(REBOUND_CLI_PATH) + " elect --etcd " + urls +
                              " --lease election/cli --lease-duration 3s --renew-deadline 2s --retry-period 300ms"
                              " --containment subreaper -- sh -c 'echo command-ran' 2>&1";
  FILE* out = ::popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, out)) text += buf;
  const int status = ::pclose(out);
  EXPECT_EQ(status, 0) << text;
  EXPECT_NE(text.find(" acquired "), std::string::npos) << text;
  EXPECT_NE(text.find("command-ran"), std::string::npos) << text;
  EXPECT_NE(text.find("revoked the etcd lease"), std::string::npos) << text;
}

TEST_F(EtcdElection, AStandbyWatchingTheKeyTakesAReleasedLockWellInsideItsRetryPeriod) {
  LeaderElector a(slow_retry_config("election/watch-release", "a"));
  a.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader(); }, 10s));
  std::atomic<int> held_by_other{0};
  auto cb = slow_retry_config("election/watch-release", "b");
  cb.on_event = [&](const rebound::lease::ElectionEvent& e) {
    if (e.kind == rebound::lease::ElectionEventKind::held_by_other) ++held_by_other;
  };
  LeaderElector b(cb);
  b.start();
  // b has just found a's key: its next attempt is 3 s or more away.
  ASSERT_TRUE(wait_for([&] { return held_by_other.load() > 0; }, 10s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(b.leader(), a.identity());
  const auto released = Clock::now();
  a.stop();  // LeaseRevoke deletes the key: b's watch sees the DELETE
  ASSERT_TRUE(wait_for([&] { return b.is_leader(); }, 10s)) << "no takeover";
  const auto took = Clock::now() - released;
  EXPECT_LT(took, 1500ms) << "taken "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms after the release: on the next attempt, not through the watch";
  EXPECT_EQ(held_by_other.load(), 1) << "b should have tried once before the release and then only after it";
  b.stop();
}

TEST_F(EtcdElection, ALeaderWhoseKeyIsDeletedBehindItStopsLeadingAtOnce) {
  std::mutex mutex;
  std::vector<rebound::lease::ElectionEvent> lost;
  std::atomic<int> stopped_leading{0};
  auto c = slow_retry_config("election/watch-deleted", "a");
  c.on_stopped_leading = [&] { ++stopped_leading; };
  c.on_event = [&](const rebound::lease::ElectionEvent& e) {
    std::lock_guard lock(mutex);
    if (e.kind == rebound::lease::ElectionEventKind::lost) lost.push_back(e);
  };
  LeaderElector a(c);
  a.start();
  ASSERT_TRUE(wait_for([&] { return a.is_leader(); }, 10s));
  std::this_thread::sleep_for(300ms);  // a waits for its next round, 3 s away

  rebound::Client client(cluster->client_options());
  rebound_etcd::v3::DeleteRangeRequest del;
  del.set_key("election/watch-deleted");
  const auto deleted_at = Clock::now();
  auto deleted = etcd_call<rebound_etcd::v3::DeleteRangeResponse>(client, cluster->client_url(2),
                                                                  "/etcdserverpb.KV/DeleteRange", del, 5s);
  ASSERT_TRUE(deleted && deleted->deleted() == 1) << "the test could not delete the key";
  // Someone may create the key now: a must not go on leading until its
  // next round would have recreated it.
  ASSERT_TRUE(wait_for([&] { return !a.is_leader(); }, 2500ms)) << "a still leads on a deleted key";
  const auto took = Clock::now() - deleted_at;
  EXPECT_LT(took, 1500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  ASSERT_TRUE(wait_for([&] { return stopped_leading.load() == 1; }, 5s));
  std::lock_guard lock(mutex);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].error_kind, "key_changed");
  EXPECT_NE(lost[0].message.find("deleted"), std::string::npos) << lost[0].message;
  a.stop();
}
