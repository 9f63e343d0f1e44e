// `rebound elect --etcd` candidates as real processes on a real 3-member
// cluster, each running a command that ticks into one shared record of
// terms (tick_record.hpp) - the commands' work as it really ran, so "never
// two leaders" is checked on what the leaders did, not on what they said:
//
// - Two elects race for one key; the leader's elect is SIGKILLed (no
//   release): its command dies with it, the other takes over within the
//   TTL and a retry period (and not before the dead leader's key expired),
//   and the two commands never run at once.
// - Quorum is lost (raft's leader and a follower killed): the leader's
//   command stops within its renew deadline of the last renewal, nobody
//   leads while there is no quorum, and when quorum returns exactly one
//   candidate leads again - in a new term, bought by a keepalive sent after
//   quorum returned, with its command started again under a new epoch.
//
// Timings: elect_on_etcd.hpp (2 s leases).
#include "elect_on_etcd.hpp"
#include "etcd_suite.hpp"
#include "raft_leader.hpp"
#include "tick_record.hpp"
#include "wait_for.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace rebound::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using T = ElectTimings;

namespace {

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

// A directory for the record, removed with the test.
class Scratch {
 public:
  explicit Scratch(const std::string& name)
      : dir_(std::filesystem::path("/dev/shm") / ("rebound-elect-etcd-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  std::string record() const { return (dir_ / "ticks.log").string(); }

 private:
  std::filesystem::path dir_;
};

class EtcdElectProcesses : public EtcdSuite {
 protected:
  // A case that failed half-way leaves the next one a whole cluster.
  void TearDown() override {
    for (int i = 0; cluster && i < cluster->size(); ++i) cluster->restart(i);
  }

  // Starts candidates "a" and "b" at once and waits until one's command
  // ticks; leader_ and follower_ name them.
  void race(const std::string& key) {
    a_ = start_elect(cluster->client_urls(), key, "a", ticks_.path());
    b_ = start_elect(cluster->client_urls(), key, "b", ticks_.path());
    ASSERT_TRUE(wait_for([&] { return ticks_.ticks_of("a") + ticks_.ticks_of("b") >= 3; }, 10s))
        << "no command ran\n" << all_lines(*a_) << all_lines(*b_);
    const bool a_leads = ticks_.ticks_of("a") > 0;
    leader_ = a_leads ? "a" : "b";
    follower_ = a_leads ? "b" : "a";
  }
  LineProcess& process(const std::string& id) { return id == "a" ? *a_ : *b_; }

  // Stops both (SIGTERM: the command, then the release) and checks that
  // no command ticks after its elect is gone.
  void stop_all() {
    for (auto* p : {a_.get(), b_.get()}) {
      p->signal(SIGTERM);
      p->signal(SIGCONT);
    }
    EXPECT_NE(a_->wait(10s), -1) << all_lines(*a_);
    EXPECT_NE(b_->wait(10s), -1) << all_lines(*b_);
    const auto gone = Clock::now();
    std::this_thread::sleep_for(400ms);
    EXPECT_EQ(ticks_.ticks_since("a", gone) + ticks_.ticks_since("b", gone), 0) << "a command outlived its elect";
  }

  Scratch scratch_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  TickRecord ticks_{scratch_.record()};
  std::unique_ptr<LineProcess> a_, b_;
  std::string leader_, follower_;
};

TEST_F(EtcdElectProcesses, RacingElectsRunOneCommandAndAKilledLeaderIsReplacedWithinTtlAndARetryPeriod) {
  race("faults/elect-race");
  if (HasFatalFailure()) return;
  const auto began = Clock::now();
  // Both keep at it: the leader renews, the follower tries every 200-440 ms.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(ticks_.ticks_of(follower_), 0) << ticks_.describe(began);

  process(leader_).signal(SIGKILL);  // dies without releasing the key
  const auto killed = Clock::now();
  EXPECT_NE(process(leader_).wait(5s), -1);
  ASSERT_TRUE(wait_for([&] { return ticks_.ticks_of(follower_) >= 3; }, 10s))
      << "no takeover\n" << all_lines(process(follower_));

  const auto takeover = ticks_.runs_of(follower_).front().first - killed;
  // The key lives until the TTL after the last keepalive (sent at most a
  // retry period before the kill); etcd expires leases in a 500 ms loop;
  // the follower tries every retry period * (1 + jitter); then its command
  // starts. One second of slack for a loaded machine.
  const auto bound = T::lease + std::chrono::duration_cast<std::chrono::milliseconds>(T::retry_period * (1 + T::jitter)) +
                     500ms + 1s;
  std::printf("takeover: the follower's command ticked %lld ms after the leader's elect was killed\n", ms(takeover));
  EXPECT_LT(ms(takeover), ms(bound)) << ticks_.describe(killed);
  // Not released: the key outlived the killed elect (by about its TTL; at
  // least half of it even on a machine slow to renew).
  EXPECT_GT(ms(takeover), ms(T::lease / 2)) << "the dead leader's key should outlive it by its TTL";
  // The dead elect's watchdog stopped its command when elect died: SIGTERM,
  // then SIGKILL a grace later.
  EXPECT_LT(ms(ticks_.runs_of(leader_).back().last - killed), ms(T::grace + 1s)) << ticks_.describe(killed);

  stop_all();
  EXPECT_EQ(ticks_.overlaps(), "");
}

TEST_F(EtcdElectProcesses, QuorumLossStopsTheCommandWithinTheRenewDeadlineAndOneLeaderReturnsWithQuorum) {
  race("faults/elect-quorum");
  if (HasFatalFailure()) return;
  std::this_thread::sleep_for(500ms);  // a few renewals
  // Raft's leader and one follower: the member left is a follower, which
  // can renew nothing without a leader. (A raft leader left alone would
  // renew leases by itself until it steps down, an election timeout later.)
  const auto raft = raft_leader(*cluster);
  ASSERT_TRUE(raft.has_value()) << "no member says it leads raft";
  const int other = (*raft + 1) % 3;
  cluster->kill(*raft);
  cluster->kill(other);
  const auto killed = Clock::now();

  // The last renewal was sent before the kill, so leadership ends within
  // the renew deadline (valid_until = send + TTL - margin, the margin being
  // lease - renew deadline); the watchdog's SIGTERM comes then, its SIGKILL
  // a grace later. Nobody may lead while there is no quorum, however long:
  // wait past a whole lease.
  std::this_thread::sleep_for(T::lease + 500ms);
  const auto last_tick = ticks_.runs_of(leader_).back().last;
  std::printf("quorum lost: the leader's command last ticked %lld ms after the kill\n", ms(last_tick - killed));
  EXPECT_LE(ms(last_tick - killed), ms(T::renew_deadline + T::grace + 400ms))
      << "ms after the kill: the command outlived its renew deadline and grace\n" << ticks_.describe(killed);
  EXPECT_LT(ms(last_tick - killed), ms(T::lease)) << "ms after the kill: the command ran past the earliest expiry of its key";
  EXPECT_EQ(ticks_.ticks_of(follower_), 0) << "a candidate led without quorum\n" << ticks_.describe(killed);

  // Quorum returns with one member (restart waits until it answers, which
  // needs quorum); exactly one candidate leads again.
  const auto back = Clock::now();
  cluster->restart(other);
  ASSERT_TRUE(wait_for([&] { return ticks_.ticks_since("a", back) + ticks_.ticks_since("b", back) >= 5; }, 10s))
      << "nobody led again\n" << all_lines(*a_) << all_lines(*b_);
  std::this_thread::sleep_for(1s);
  const int a_ticks = ticks_.ticks_since("a", back), b_ticks = ticks_.ticks_since("b", back);
  EXPECT_TRUE((a_ticks > 0) != (b_ticks > 0)) << a_ticks << " and " << b_ticks << " ticks\n" << ticks_.describe(back);
  const std::string now_leading = a_ticks > 0 ? "a" : "b";
  std::printf("quorum back: %s (%s) leads again, its command ticking %lld ms after the restart began\n",
              now_leading.c_str(), now_leading == leader_ ? "the old leader" : "the other candidate",
              ms(ticks_.runs_of(now_leading).back().first - back));

  // The new term was bought by a keepalive (or grant) sent after quorum
  // returned: its bound less the lock span (TTL - margin = the renew
  // deadline) is no earlier than that.
  const auto lines = elect_lines(process(now_leading));
  std::optional<ElectLine> acquired;
  std::vector<long long> command_terms;
  for (const auto& l : lines) {
    if (l.event == "acquired" && l.at > back && !acquired) acquired = l;
    if (l.event == "command_started" && l.term) command_terms.push_back(*l.term);
  }
  ASSERT_TRUE(acquired && acquired->valid_until) << all_lines(process(now_leading));
  EXPECT_GE(ms(*acquired->valid_until - T::renew_deadline - back), 0)
      << "ms: a term began on a keepalive sent before quorum returned";
  if (now_leading == leader_) {
    ASSERT_GE(command_terms.size(), 2u) << all_lines(process(now_leading));
    EXPECT_GT(command_terms.back(), command_terms.front()) << "the command restarts under a new term";
  }

  cluster->restart(*raft);
  stop_all();
  EXPECT_EQ(ticks_.overlaps(), "");
}
