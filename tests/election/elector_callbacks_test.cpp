// The elector's callbacks against the embedded Lease API: on_started_leading
// in its stop_token form runs the work until leadership ends (client-go's
// idiom) and a void() one that blocks does not hold up on_stopped_leading;
// stop() returns within its bound even when on_stopped_leading never does,
// and then does not release the lease (it expires instead). Short timings
// (lease_fixtures.hpp): safety margin 0.5 s, so the callbacks' bound is 1 s.
#include "lease/lease_fixtures.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stop_token>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

// A latch the test opens; waits are bounded so that a failing test ends.
class Gate {
 public:
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait_for(std::chrono::milliseconds bound) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, bound, [&] { return open_; });
  }
  bool is_open() {
    std::lock_guard lock(m_);
    return open_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

// stop() on another thread; the future is ready when it returned.
std::future<void> stop_async(LeaderElector& e) {
  return std::async(std::launch::async, [&e] { e.stop(); });
}

}  // namespace

class ElectorCallbacks : public FdBaselineTest {};

TEST_F(ElectorCallbacks, AStopTokenOnStartedLeadingRunsTheWorkUntilLeadershipEnds) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg = candidate(*s, "a", rec);
  std::atomic<bool> working{false}, token_seen{false}, stopped_after_work{false};
  cfg.on_started_leading = [&](std::stop_token token) {
    working = true;
    while (!token.stop_requested()) std::this_thread::sleep_for(5ms);
    token_seen = true;
    working = false;
  };
  cfg.on_stopped_leading = [&] { stopped_after_work = !working; };
  LeaderElector a(cfg);
  a.start();
  ASSERT_TRUE(wait_until([&] { return working.load(); }, 10s)) << rec.timeline();
  const auto t0 = Clock::now();
  auto stopped = stop_async(a);
  ASSERT_EQ(stopped.wait_for(5s), std::future_status::ready) << rec.timeline();
  EXPECT_LT(Clock::now() - t0, 3s);
  EXPECT_TRUE(token_seen);
  EXPECT_TRUE(stopped_after_work) << "on_stopped_leading ran before the work had stopped";
  EXPECT_EQ(rec.count(ElectionEventKind::released), 1) << rec.timeline();
}

// A void() on_started_leading that blocks until on_stopped_leading runs:
// on the old single callback thread the two waited for each other for ever.
TEST_F(ElectorCallbacks, AVoidOnStartedLeadingThatBlocksDoesNotHoldUpOnStoppedLeading) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg = candidate(*s, "a", rec);
  // Shared: the callbacks' threads may outlive this scope by a moment.
  auto started = std::make_shared<Gate>(), stopped_called = std::make_shared<Gate>();
  cfg.on_started_leading = [started, stopped_called] {
    started->open();
    stopped_called->wait_for(30s);
  };
  cfg.on_stopped_leading = [stopped_called] { stopped_called->open(); };
  LeaderElector a(cfg);
  a.start();
  ASSERT_TRUE(started->wait_for(10s)) << rec.timeline();
  auto stopped = stop_async(a);
  const bool returned = stopped.wait_for(5s) == std::future_status::ready;
  if (!returned) stopped_called->open();  // unblock, so the test ends
  EXPECT_TRUE(returned) << "stop() waited for a blocked on_started_leading";
  EXPECT_TRUE(stopped_called->is_open());
  stopped.wait();
  EXPECT_EQ(rec.count(ElectionEventKind::released), 1) << rec.timeline();
}

TEST_F(ElectorCallbacks, StopReturnsWithinItsBoundWhenOnStoppedLeadingNeverDoesAndLeavesTheLeaseToExpire) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg = candidate(*s, "a", rec);
  auto never = std::make_shared<Gate>();  // opened at the end, so the detached callback finishes
  auto leading = std::make_shared<std::atomic<bool>>(false);
  cfg.on_started_leading = [leading] { *leading = true; };
  cfg.on_stopped_leading = [never] { never->wait_for(30s); };
  {
    LeaderElector a(cfg);
    a.start();
    ASSERT_TRUE(wait_until([&] { return leading->load(); }, 10s)) << rec.timeline();
    const auto t0 = Clock::now();
    auto stopped = stop_async(a);
    const bool returned = stopped.wait_for(6s) == std::future_status::ready;
    if (!returned) never->open();
    ASSERT_TRUE(returned) << "stop() waited for a callback that never returns";
    // Two waits of the 1 s bound at most: the release's and run()'s own.
    EXPECT_LT(Clock::now() - t0, 4s);
  }  // the destructor too returns within its bound
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.holder_identity, "a") << "released while its work may still run";
  never->open();
}
