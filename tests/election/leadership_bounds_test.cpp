// Leadership you can trust (in one process; the paused process is in
// tests/cli/elect_test.cpp): a callback that blocks does not stop renewals,
// identities are unique by default, two candidates given one identity
// never both lead - a record naming us is ours only if we wrote it - and a
// leader whose connection went silent renews on a new one in time.
#include "lease/lease_fixtures.hpp"

#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

class LeadershipBounds : public FdBaselineTest {};

}  // namespace

TEST_F(LeadershipBounds, ABlockingOnStartedLeadingDoesNotStopRenewals) {
  // The callback blocks longer than the lease (2.5 s against 1.5 s). The
  // leader keeps renewing meanwhile, so the standby never takes over and
  // the leader never stops leading.
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg_a = candidate(*s, "a", rec);
  std::promise<void> unblock;
  auto unblocked = unblock.get_future().share();
  std::atomic<bool> in_callback{false};
  cfg_a.on_started_leading = [recorded = cfg_a.on_started_leading, unblocked, &in_callback](std::stop_token token) {
    recorded(token);
    in_callback = true;
    unblocked.wait_for(2500ms);
    in_callback = false;
  };
  LeaderElector a(cfg_a);
  a.start();
  ASSERT_TRUE(wait_until([&] { return in_callback.load(); }, 10s)) << rec.timeline();
  LeaderElector b(candidate(*s, "b", rec));
  b.start();
  // Counted by the server: the events queue behind the blocked callback.
  const auto writes_before = store->writes(lock_ns, lock_name);
  std::this_thread::sleep_for(2s);  // inside the blocked callback, past the lease
  const auto renewed_during = store->writes(lock_ns, lock_name) - writes_before;
  const bool leading_during = a.is_leader();
  unblock.set_value();

  EXPECT_GE(renewed_during, 3u) << "renewals stopped while on_started_leading ran\n" << rec.timeline();
  EXPECT_TRUE(leading_during);
  EXPECT_EQ(store->holder_changes(lock_ns, lock_name), 1u) << describe_history(*store);
  EXPECT_EQ(rec.leaderships("b"), 0) << rec.timeline();
  EXPECT_EQ(premature_takeovers(*store), "") << describe_history(*store);
}

TEST_F(LeadershipBounds, IdentitiesGetAUniqueSuffixByDefault) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg = candidate(*s, "host", rec);
  cfg.unique_identity = true;  // the default, which the fixture turns off
  LeaderElector a(cfg), b(cfg);
  EXPECT_NE(a.identity(), b.identity());
  EXPECT_EQ(a.identity().rfind("host_", 0), 0u) << a.identity();
  EXPECT_EQ(a.identity().size(), std::string("host_").size() + 8);
  EXPECT_EQ(LeaderElectionConfig{}.unique_identity, true);
  a.start();
  b.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader() || b.is_leader(); }, 10s)) << rec.timeline();
  const auto holder = store->get(lock_ns, lock_name)->spec.holder_identity;
  EXPECT_TRUE(holder == a.identity() || holder == b.identity()) << holder;
  // Both keep running a while: never both leaders.
  for (int i = 0; i < 100; ++i) {
    ASSERT_FALSE(a.is_leader() && b.is_leader()) << rec.timeline();
    std::this_thread::sleep_for(10ms);
  }
}

TEST_F(LeadershipBounds, TwoCandidatesGivenOneIdentityNeverBothLead) {
  // As two processes started with the same --identity and the suffix off:
  // each sees a record naming "same" that it did not write.
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec_a, rec_b;
  LeaderElector a(candidate(*s, "same", rec_a));
  LeaderElector b(candidate(*s, "same", rec_b));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec_a.timeline();
  b.start();
  int both = 0;
  for (int i = 0; i < 300; ++i) {  // 3 s: two lease durations
    both += a.is_leader() && b.is_leader();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(both, 0) << "A:\n" << rec_a.timeline() << "B:\n" << rec_b.timeline();
  EXPECT_EQ(rec_b.leaderships("same"), 0) << rec_b.timeline();
  EXPECT_GE(rec_b.count(ElectionEventKind::held_by_other), 3) << rec_b.timeline();
  EXPECT_TRUE(a.is_leader());
}

TEST_F(LeadershipBounds, ALeaderWhoseConnectionGoesSilentRenewsOnANewOneWithinTheRenewDeadline) {
  // The path of the leader's established connection dies without a FIN or
  // RST while the server stays reachable (new connections get through).
  // With the library's default health settings (30 s idle PING, 15 s
  // timeout, 30 s TCP user timeout) that connection would hold the
  // renewals for longer than the lease; the elector bounds each attempt by
  // the retry period and its client's health timings by the renew
  // deadline, and a timed-out stream makes the connection suspect (PING
  // probe), so the next renewal dials a fresh connection in time.
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  proxy::FaultProxy path({"127.0.0.1", 0, "127.0.0.1", s->port()});
  path.start();
  Recorder rec;
  auto cfg = candidate(*s, "a", rec);
  cfg.base_url = "https://127.0.0.1:" + std::to_string(path.port());
  cfg.client_options = Options{};  // the library's defaults...
  cfg.client_options.tls.ca_file = s->certificate_file();  // ...trusting the test server
  cfg.lease_duration = 3s;
  cfg.renew_deadline = 2s;
  cfg.retry_period = 300ms;
  LeaderElector a(cfg);
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  LeaderElector b(candidate(*s, "b", rec));
  b.start();
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::held_by_other, "b") >= 1; }, 10s));

  const auto accepted_before = path.stats().accepted;
  const auto silenced = Clock::now();
  path.blackhole_current();
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& e : rec.events())
          if (e.kind == ElectionEventKind::renewed && e.identity == "a" && e.time > silenced &&
              path.stats().accepted > accepted_before)
            return true;
        return false;
      },
      10s))
      << rec.timeline();
  Clock::time_point renewed_at{};
  for (const auto& e : rec.events())
    if (e.kind == ElectionEventKind::renewed && e.identity == "a" && e.time > silenced && renewed_at == Clock::time_point{})
      renewed_at = e.time;
  EXPECT_LT(renewed_at - silenced, cfg.renew_deadline) << rec.timeline();
  EXPECT_GT(path.stats().accepted, accepted_before) << "the renewal did not move to a new connection";
  EXPECT_EQ(rec.count(ElectionEventKind::lost, "a"), 0) << rec.timeline();
  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(store->holder_changes(lock_ns, lock_name), 1u) << describe_history(*store);
  b.stop();
  a.stop();
}
