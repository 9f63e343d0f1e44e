// Leader election against the embedded Lease API over HTTP/2 + TLS, with
// short timings (lease 1.5 s -> leaseDurationSeconds 2, renew deadline 1 s,
// retry 200 ms): one holder at a time as seen by the server and by the
// callbacks, takeover, conflicts between racing candidates, the renew
// deadline when the server stays down, surviving a short outage, a create
// whose answer is lost, and release. Waits are on what the candidates or
// the server report, with generous deadlines; every test ends on the
// file-descriptor baseline, and the fault tests count the server's POSTs.
#include "lease/lease_fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

using ms = std::chrono::milliseconds;

ms since(Clock::time_point t) { return std::chrono::duration_cast<ms>(Clock::now() - t); }

bool observed(const Recorder& r, const std::string& who, const std::string& holder) {
  for (const auto& h : r.new_leaders(who))
    if (h == holder) return true;
  return false;
}

// Runs a request straight through the store, as a setup step.
server::ServerResponse put_directly(LeaseStore& store, std::string method, std::string path, std::string body) {
  server::ServerRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.body = std::move(body);
  return store.handle(r);
}

// Registers `store` so that the first `n` GETs are answered `delay` late (the
// store's answer is taken at once): candidates that start together all read
// the same state and then race to write.
void install_with_slow_first_gets(server::Server& s, std::shared_ptr<LeaseStore> store, int n, ms delay) {
  auto gets = std::make_shared<std::atomic<int>>(0);
  s.route(std::string(lease_api_prefix) + "*", [store, gets, n, delay](const server::ServerRequest& r) {
    auto response = store->handle(r);
    if (r.method == "GET" && gets->fetch_add(1) < n) response.delay = delay;
    return response;
  });
}

// Candidates a, b and c, started together. A loser retries no sooner than
// 600 ms later, once all three slowed GETs (400 ms) have been answered.
std::vector<std::unique_ptr<LeaderElector>> start_three_racing(const server::Server& s, Recorder& rec) {
  std::vector<std::unique_ptr<LeaderElector>> electors;
  for (std::string id : {"a", "b", "c"}) {
    auto cfg = candidate(s, id, rec);
    cfg.retry_period = 600ms;
    electors.push_back(std::make_unique<LeaderElector>(cfg));
  }
  for (auto& e : electors) e->start();
  return electors;
}

// Every candidate but `leader` has found the lease held (by anyone).
bool others_found_it_held(const Recorder& r, const std::vector<std::string>& ids, const std::string& leader) {
  for (const auto& id : ids)
    if (id != leader && r.count(ElectionEventKind::held_by_other, id) == 0) return false;
  return true;
}

int events_after(const Recorder& r, ElectionEventKind kind, const std::string& id, Clock::time_point t) {
  int n = 0;
  for (const auto& e : r.events()) n += e.kind == kind && e.identity == id && e.time > t;
  return n;
}

}  // namespace

class LeaderElection : public FdBaselineTest {};

TEST_F(LeaderElection, ASingleCandidateCreatesTheLeaseAndRenewsIt) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  const auto first = store->get(lock_ns, lock_name);
  ASSERT_TRUE(first);
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::renewed) >= 3; }, 10s)) << rec.timeline();
  const auto later = store->get(lock_ns, lock_name);

  EXPECT_EQ(later->spec.holder_identity, "a");
  EXPECT_EQ(later->spec.lease_duration_seconds, 2);  // 1.5 s, rounded up
  EXPECT_EQ(later->spec.lease_transitions, 0);
  EXPECT_EQ(later->spec.acquire_time, first->spec.acquire_time);
  EXPECT_GT(later->spec.renew_time, first->spec.renew_time);
  EXPECT_EQ(rec.count(ElectionEventKind::acquired), 1);
  EXPECT_EQ(rec.new_leaders("a"), std::vector<std::string>{"a"});
  EXPECT_EQ(a.leader(), "a");
  EXPECT_GE(s->stats().h2_connections, 1u);
  EXPECT_EQ(s->stats().h1_connections, 0u);
}

TEST_F(LeaderElection, OnlyOneCandidateLeadsAtATimeAsSeenByTheServer) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  std::map<std::string, std::unique_ptr<LeaderElector>> electors;
  for (std::string id : {"a", "b", "c"}) {
    auto cfg = candidate(*s, id, rec);
    cfg.release_on_cancel = false;  // a stop is a crash: the others must wait out the lease
    electors[id] = std::make_unique<LeaderElector>(cfg);
  }
  for (auto& [id, e] : electors) e->start();

  ASSERT_TRUE(wait_until([&] { auto l = rec.current_leader(); return !l.empty() && l != "!"; }, 10s))
      << rec.timeline();
  const std::string first = rec.current_leader();
  electors[first]->stop();
  ASSERT_TRUE(wait_until([&] { auto l = rec.current_leader(); return !l.empty() && l != first; }, 10s))
      << rec.timeline();
  // The third candidate has seen the new leader's lease (any takeover by it
  // would follow) and the new leader has renewed it since.
  const std::string second = rec.current_leader();
  const auto took_over = Clock::now();
  std::string third;
  for (const auto& [id, e] : electors)
    if (id != first && id != second) third = id;
  ASSERT_TRUE(wait_until([&] { return observed(rec, third, second); }, 10s)) << rec.timeline();
  ASSERT_TRUE(wait_until([&] { return events_after(rec, ElectionEventKind::renewed, second, took_over) >= 1; }, 10s))
      << rec.timeline();
  for (auto& [id, e] : electors) e->stop();

  EXPECT_EQ(rec.overlaps(), "") << rec.timeline();
  EXPECT_EQ(premature_takeovers(*store), "") << describe_history(*store) << rec.timeline();
  const auto history = store->holder_history(lock_ns, lock_name);
  ASSERT_EQ(history.size(), 2u) << describe_history(*store);
  EXPECT_EQ(history[0].holder, first);
  EXPECT_EQ(history[1].previous_holder, first);
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.lease_transitions, 1);
  EXPECT_EQ(rec.count(ElectionEventKind::acquired), 2) << rec.timeline();
}

TEST_F(LeaderElection, ASecondCandidateTakesOverOnceTheStoppedLeadersLeaseExpires) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg_a = candidate(*s, "a", rec);
  cfg_a.release_on_cancel = false;
  LeaderElector a(cfg_a);
  LeaderElector b(candidate(*s, "b", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  const auto acquired_by_a = store->get(lock_ns, lock_name)->spec.acquire_time;
  b.start();
  ASSERT_TRUE(wait_until([&] { return observed(rec, "b", "a"); }, 10s)) << rec.timeline();

  const auto stopped = Clock::now();
  a.stop();
  ASSERT_TRUE(wait_until([&] { return b.is_leader(); }, record_lease + 10s)) << rec.timeline();
  const auto took = since(stopped);
  // Not before a's last renewal (at most a jittered retry period, 440 ms,
  // before the stop) had aged a whole leaseDurationSeconds: a safety bound,
  // so it stays tight. And then within a few seconds (liveness, generous).
  EXPECT_GE(took, record_lease - test_retry - 300ms);
  EXPECT_LE(took, record_lease + 3s);

  const auto lease = store->get(lock_ns, lock_name);
  EXPECT_EQ(lease->spec.holder_identity, "b");
  EXPECT_EQ(lease->spec.lease_transitions, 1);
  EXPECT_GT(lease->spec.acquire_time, acquired_by_a);
  EXPECT_EQ(premature_takeovers(*store), "") << describe_history(*store);
  EXPECT_EQ(rec.overlaps(), "") << rec.timeline();
  // Events arrive on the elector's callback thread, soon after is_leader().
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& e : rec.events())
          if (e.kind == ElectionEventKind::acquired && e.identity == "b" && e.message == "took over from a") return true;
        return false;
      },
      5s))
      << rec.timeline();
}

TEST_F(LeaderElection, CandidatesRacingToCreateTheLeaseConflictAndOneWins) {
  auto s = start_tls_server();
  auto store = std::make_shared<LeaseStore>();
  install_with_slow_first_gets(*s, store, 3, 400ms);
  Recorder rec;
  const auto electors = start_three_racing(*s, rec);

  ASSERT_TRUE(wait_until([&] { return !rec.current_leader().empty(); }, 10s)) << rec.timeline();
  const std::string leader = rec.current_leader();
  // Each loser's next attempt finds the lease held: by then its conflict is recorded.
  ASSERT_TRUE(wait_until([&] { return others_found_it_held(rec, {"a", "b", "c"}, leader); }, 10s)) << rec.timeline();

  // All three read 404 and POSTed; the store let exactly one create happen.
  EXPECT_EQ(rec.count(ElectionEventKind::acquired), 1) << rec.timeline();
  EXPECT_EQ(rec.count(ElectionEventKind::conflict), 2) << rec.timeline();
  for (const auto& e : rec.events())
    if (e.kind == ElectionEventKind::conflict) {
      EXPECT_EQ(e.error_kind, "http_409");
      EXPECT_NE(e.message.find("AlreadyExists"), std::string::npos) << e.message;
    }
  EXPECT_GE(rec.count(ElectionEventKind::held_by_other), 2) << rec.timeline();
  EXPECT_EQ(store->holder_changes(lock_ns, lock_name), 1u) << describe_history(*store);
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.holder_identity, leader);
  EXPECT_EQ(rec.overlaps(), "");
}

TEST_F(LeaderElection, CandidatesRacingForAFreeLeaseConflictOnResourceVersionAndOneWins) {
  auto s = start_tls_server();
  auto store = std::make_shared<LeaseStore>();
  // A released lease: free to take at once, so all three will write.
  const auto created = put_directly(*store, "POST", leases_path(lock_ns),
                                    R"({"metadata":{"name":"lock"},"spec":{"holderIdentity":"","leaseDurationSeconds":1,"leaseTransitions":4}})");
  ASSERT_EQ(created.status, 201) << created.body;
  install_with_slow_first_gets(*s, store, 3, 400ms);
  Recorder rec;
  const auto electors = start_three_racing(*s, rec);

  ASSERT_TRUE(wait_until([&] { return !rec.current_leader().empty(); }, 10s)) << rec.timeline();
  const std::string leader = rec.current_leader();
  ASSERT_TRUE(wait_until([&] { return others_found_it_held(rec, {"a", "b", "c"}, leader); }, 10s)) << rec.timeline();

  EXPECT_EQ(rec.count(ElectionEventKind::acquired), 1) << rec.timeline();
  EXPECT_EQ(rec.count(ElectionEventKind::conflict), 2) << rec.timeline();
  for (const auto& e : rec.events())
    if (e.kind == ElectionEventKind::conflict) {
      EXPECT_NE(e.message.find("Conflict"), std::string::npos) << e.message;
    }
  EXPECT_EQ(store->holder_changes(lock_ns, lock_name), 1u) << describe_history(*store);
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.lease_transitions, 5);
  EXPECT_EQ(rec.overlaps(), "");
}

// An API server slower than a retry period still works: an attempt may
// use the rest of its round, and the leader renews with one PUT of the
// record its last write returned (client-go's fast path), not a GET and a
// PUT. Every answer here comes 300 ms late, more than the 200 ms retry
// period; capping attempts at a retry period never acquired at all.
TEST_F(LeaderElection, ASlowApiServerStillElectsAndTheLeaderRenewsWithOnePut) {
  auto s = start_tls_server();
  auto store = std::make_shared<LeaseStore>();
  s->route(std::string(lease_api_prefix) + "*", [store](const server::ServerRequest& r) {
    auto response = store->handle(r);
    response.delay = 300ms;
    return response;
  });
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  const auto gets_when_leading = s->stats().requests_by_method["GET"];
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::renewed, "a") >= 4; }, 10s)) << rec.timeline();
  EXPECT_EQ(rec.count(ElectionEventKind::lost, "a"), 0) << rec.timeline();
  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(s->stats().requests_by_method["GET"], gets_when_leading) << "renewals read the lease before writing it";
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.holder_identity, "a");
  a.stop();
}

// A renewal's PUT that meets a write it did not see (here: the record
// edited behind the leader's back, keeping it the holder) falls back to a
// read and renews on the new version, without losing the lease.
TEST_F(LeaderElection, ARenewalThatConflictsRereadsAndRenewsOnTheNewVersion) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  // A label added by someone else moves the resourceVersion.
  auto edited = boost::json::parse(put_directly(*store, "GET", lease_path(lock_ns, lock_name), "").body).as_object();
  edited["metadata"].as_object()["labels"] = boost::json::object{{"edited", "yes"}};
  ASSERT_EQ(put_directly(*store, "PUT", lease_path(lock_ns, lock_name), boost::json::serialize(edited)).status, 200);
  const auto edited_at = Clock::now();
  ASSERT_TRUE(wait_until([&] { return events_after(rec, ElectionEventKind::renewed, "a", edited_at) >= 2; }, 10s))
      << rec.timeline();
  EXPECT_EQ(rec.count(ElectionEventKind::lost, "a"), 0) << rec.timeline();
  EXPECT_TRUE(a.is_leader());
  a.stop();
}

// A lease that vanishes while another holds it (`kubectl delete lease`, a
// memory-only server restarted) is still held by a standby's clock until
// it would have expired: its holder may still be working. Here the holder
// stopped without releasing, then the lease was deleted; the old elector
// recreated it at once (~200 ms), beside a holder that could still lead
// for a second.
TEST_F(LeaderElection, AVanishedLeaseIsStillHeldUntilItWouldHaveExpired) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg_a = candidate(*s, "a", rec);
  cfg_a.release_on_cancel = false;  // as if it were paused or cut off
  LeaderElector a(cfg_a);
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  LeaderElector b(candidate(*s, "b", rec));
  b.start();
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::held_by_other, "b") >= 1; }, 10s));
  a.stop();
  const auto a_stopped = Clock::now();
  ASSERT_EQ(put_directly(*store, "DELETE", lease_path(lock_ns, lock_name), "").status, 200);
  ASSERT_TRUE(wait_until([&] { return b.is_leader(); }, 10s)) << rec.timeline();
  // The record said 2 s; b last saw it change at most a retry period before a stopped.
  EXPECT_GE(since(a_stopped), record_lease - test_retry - 100ms) << rec.timeline();
  bool named = false;
  for (const auto& e : rec.events()) named |= e.identity == "b" && e.message.find("vanished") != std::string::npos;
  EXPECT_TRUE(named) << rec.timeline();
  EXPECT_EQ(rec.overlaps(), "");
  b.stop();
}

// The memory-only server restarted under a leader (here: its store
// replaced by an empty one holding writes for the longest lease, as
// `rebound serve --leases` does): never two leaders. The leader cannot
// renew during the hold and loses its leadership; that is the price.
TEST_F(LeaderElection, AForgetfulServerRestartedUnderALeaderNeverYieldsTwoLeaders) {
  auto s = start_tls_server();
  install_lease_api(*s);
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  LeaderElector b(candidate(*s, "b", rec));
  b.start();
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::held_by_other, "b") >= 1; }, 10s));
  LeaseStoreOptions forgetful;
  forgetful.max_lease_duration = std::chrono::seconds(record_lease / 1s);
  const auto restarted = Clock::now();
  auto fresh = install_lease_api(*s, forgetful);  // the routes now lead to an empty store
  ASSERT_TRUE(wait_until([&] { return fresh->get(lock_ns, lock_name).has_value() && rec.current_leader() != ""; }, 10s))
      << rec.timeline();
  EXPECT_GE(since(restarted), record_lease - 100ms) << "a write got through the hold";
  EXPECT_EQ(rec.overlaps(), "") << rec.timeline();
  b.stop();
  a.stop();
}

TEST_F(LeaderElection, LeaderStopsLeadingWhenTheServerStaysDownPastTheRenewDeadline) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();

  const auto killed = Clock::now();
  s->kill();
  ASSERT_TRUE(wait_until([&] { return !a.is_leader(); }, 10s)) << rec.timeline();
  const auto gave_up = since(killed);
  // It kept trying for (most of) a renew deadline rather than giving up at
  // the first failure, and then did give up (generously: within seconds).
  EXPECT_GE(gave_up, 500ms) << rec.timeline();
  EXPECT_LE(gave_up, test_retry + test_renew_deadline + 3s) << rec.timeline();
  // Events and callbacks arrive on the elector's callback thread, just after.
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::lost) == 1 && !rec.intervals().empty() &&
                                      rec.intervals()[0].end.has_value(); },
                         5s))
      << rec.timeline();
  // One attempt may span the round: the client redials the refusing
  // server within it (the failure names its many attempts).
  EXPECT_GE(events_after(rec, ElectionEventKind::failed, "a", killed), 1) << rec.timeline();
  for (const auto& e : rec.events())
    if (e.kind == ElectionEventKind::lost) {
      EXPECT_NE(e.message.find("renew deadline passed"), std::string::npos) << e.message;
      EXPECT_FALSE(e.error_kind.empty());
    }
  const auto intervals = rec.intervals();
  ASSERT_EQ(intervals.size(), 1u);
  EXPECT_TRUE(intervals[0].end.has_value());

  // Without rejoin_after_loss, run() ends (client-go's behaviour).
  s->restart();
  EXPECT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::stopped) == 1; }, 10s)) << rec.timeline();
  EXPECT_EQ(rec.count(ElectionEventKind::released), 0);
  EXPECT_EQ(posts(*s), 1u) << "the lease was created once";
}

TEST_F(LeaderElection, ALeaderThatRejoinsReacquiresItsOwnLeaseWhenTheServerReturns) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg = candidate(*s, "a", rec);
  cfg.rejoin_after_loss = true;
  LeaderElector a(cfg);
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  s->kill();
  ASSERT_TRUE(wait_until([&] { return !a.is_leader(); }, 10s)) << rec.timeline();
  s->restart();
  // The next request after the restart must work (the incident rebound exists for).
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();

  EXPECT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::acquired) == 2 && rec.leaderships("a") == 2; }, 5s))
      << rec.timeline();
  const auto lease = store->get(lock_ns, lock_name);
  EXPECT_EQ(lease->spec.holder_identity, "a");
  EXPECT_EQ(lease->spec.lease_transitions, 0);  // never changed hands
  EXPECT_EQ(store->holder_changes(lock_ns, lock_name), 1u);
  EXPECT_EQ(posts(*s), 1u) << "re-acquiring an existing lease is an update, not a second create";
}

TEST_F(LeaderElection, LeaderKeepsTheLeaseThroughAnOutageShorterThanTheRenewDeadline) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  auto cfg_a = candidate(*s, "a", rec);
  auto failed_dials = std::make_shared<std::atomic<int>>(0);
  cfg_a.client_options.on_event = [failed_dials](const Event& e) {
    if (e.kind == EventKind::dial_failed) ++*failed_dials;
  };
  LeaderElector a(cfg_a);
  LeaderElector b(candidate(*s, "b", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  b.start();
  ASSERT_TRUE(wait_until([&] { return observed(rec, "b", "a"); }, 10s)) << rec.timeline();

  // The outage lasts until the leader has tried to reach the dead server (a
  // renewal comes every jittered retry period, at most 440 ms), well inside
  // the 1 s renew deadline.
  const auto accepted_before = s->stats().connections_accepted;
  s->kill();
  const bool leader_hit_the_outage = wait_until([&] { return *failed_dials > 0; }, 700ms);
  s->restart();
  ASSERT_TRUE(leader_hit_the_outage) << "no dial failed while the server was down\n" << rec.timeline();
  const auto restarted = Clock::now();
  ASSERT_TRUE(wait_until([&] { return events_after(rec, ElectionEventKind::renewed, "a", restarted) >= 3; }, 10s))
      << rec.timeline();

  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(rec.leaderships("a"), 1);
  EXPECT_EQ(rec.leaderships("b"), 0);
  EXPECT_EQ(rec.count(ElectionEventKind::lost), 0) << rec.timeline();
  // The outage was real: the candidates had to dial the restarted server
  // (an attempt during it may have failed, or ridden it out on redials).
  EXPECT_GT(s->stats().connections_accepted, accepted_before);
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.holder_identity, "a");
  EXPECT_EQ(store->holder_changes(lock_ns, lock_name), 1u) << describe_history(*store);
  EXPECT_EQ(rec.overlaps(), "");
  EXPECT_EQ(posts(*s), 1u) << "only a ever created the lease, once";
}

// The server applies a's create and then drops the connection before any
// response byte: the POST may have been processed. The elector marks its
// create RetryPolicy::always because a second create cannot apply (it meets
// AlreadyExists), so the client resends it once at once; the store must
// hold exactly the one create, and a - finding itself the holder - leads.
TEST_F(LeaderElection, ACreateWhoseAnswerIsLostIsResentOnceAndCannotApplyTwice) {
  auto s = start_tls_server();
  auto store = std::make_shared<LeaseStore>();
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  // The version the lost answer carried (written before `dropped` is set).
  auto lost_version = std::make_shared<std::string>();
  s->route(std::string(lease_api_prefix) + "*",
           [store, dropped, lost_version, srv = s.get()](const server::ServerRequest& r) {
             auto response = store->handle(r);
             // Checked right after this handler returns: this very request is dropped.
             if (r.method == "POST" && !dropped->load()) {
               *lost_version = std::string(
                   boost::json::parse(response.body).at("metadata").at("resourceVersion").as_string());
               dropped->store(true);
               srv->drop_next_requests(1);
             }
             return response;
           });
  Recorder rec;
  auto cfg = candidate(*s, "a", rec);
  auto resent = std::make_shared<std::atomic<int>>(0);
  cfg.client_options.on_event = [resent](const Event& e) {
    if (e.kind == EventKind::retry) ++*resent;
  };
  LeaderElector a(cfg);
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();

  ASSERT_TRUE(dropped->load());
  EXPECT_EQ(*resent, 1) << rec.timeline();
  EXPECT_EQ(posts(*s), 2u) << "the create, and one resend of it\n" << rec.timeline();
  EXPECT_EQ(rec.count(ElectionEventKind::conflict, "a"), 1) << "the resend met the applied create\n" << rec.timeline();
  const auto history = store->holder_history(lock_ns, lock_name);
  ASSERT_EQ(history.size(), 1u) << describe_history(*store);
  EXPECT_EQ(history[0].holder, "a");
  EXPECT_EQ(history[0].resource_version, *lost_version) << "the holder change is the create whose answer was lost";
  const auto lease = store->get(lock_ns, lock_name);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->spec.holder_identity, "a");
  EXPECT_EQ(lease->spec.lease_transitions, 0);
}

TEST_F(LeaderElection, ReleaseOnStopLetsAnotherCandidateTakeOverWellBeforeExpiry) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  // A 30 s lease: a takeover by expiry would take that long, one after the
  // release takes a jittered retry period (at most 440 ms).
  const auto long_lease = [&](std::string id) {
    auto cfg = candidate(*s, std::move(id), rec);
    cfg.lease_duration = 30s;
    cfg.renew_deadline = 20s;
    return cfg;
  };
  LeaderElector a(long_lease("a"));
  LeaderElector b(long_lease("b"));
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  b.start();
  ASSERT_TRUE(wait_until([&] { return observed(rec, "b", "a"); }, 10s)) << rec.timeline();

  const auto stopping = Clock::now();
  a.stop();  // returns after the release
  EXPECT_EQ(rec.count(ElectionEventKind::released, "a"), 1) << rec.timeline();
  ASSERT_TRUE(wait_until([&] { return b.is_leader(); }, 15s)) << rec.timeline();
  EXPECT_LT(since(stopping), 15s) << rec.timeline();

  const auto history = store->holder_history(lock_ns, lock_name);
  ASSERT_EQ(history.size(), 3u) << describe_history(*store);
  EXPECT_EQ(history[1].previous_holder, "a");
  EXPECT_EQ(history[1].holder, "");
  EXPECT_EQ(history[2].holder, "b");
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.lease_transitions, 1);
  EXPECT_TRUE(wait_until([&] { return rec.new_leaders("b") == std::vector<std::string>{"a", "b"}; }, 5s))
      << rec.timeline();
  EXPECT_EQ(rec.overlaps(), "") << rec.timeline();
}

TEST_F(LeaderElection, StoppingACandidateIsPromptAndCallsNoLeadershipCallbacks) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  // b waits 10-22 s (a jittered retry period) between attempts: a stop that
  // waited for the next attempt instead of cutting the wait short would show.
  auto cfg_b = candidate(*s, "b", rec);
  cfg_b.retry_period = 10s;
  cfg_b.renew_deadline = 15s;
  cfg_b.lease_duration = 20s;
  LeaderElector b(cfg_b);
  a.start();
  ASSERT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  b.start();
  ASSERT_TRUE(wait_until([&] { return observed(rec, "b", "a"); }, 10s)) << rec.timeline();

  const auto t = Clock::now();
  b.stop();
  EXPECT_LT(since(t), 5s);
  EXPECT_EQ(rec.leaderships("b"), 0);
  EXPECT_EQ(rec.count(ElectionEventKind::stopped, "b"), 1);
  EXPECT_EQ(rec.count(ElectionEventKind::released, "b"), 0);
  EXPECT_TRUE(a.is_leader());
}

TEST_F(LeaderElection, BearerTokenFromAFileIsSentAndAWrongOneIsRefused) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s, {.persist_path = {}, .bearer_token = "s3cret"});
  const std::string token_file = "/tmp/rebound-lease-token-" + std::to_string(::getpid());
  std::ofstream(token_file) << "s3cret\n";
  Recorder rec;
  auto cfg_a = candidate(*s, "a", rec);
  cfg_a.bearer_token_file = token_file;
  auto cfg_b = candidate(*s, "b", rec);
  cfg_b.bearer_token = "wrong";
  LeaderElector a(cfg_a);
  LeaderElector b(cfg_b);
  a.start();
  b.start();
  EXPECT_TRUE(wait_until([&] { return a.is_leader(); }, 10s)) << rec.timeline();
  EXPECT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::failed, "b") >= 2; }, 10s)) << rec.timeline();
  std::remove(token_file.c_str());
  for (const auto& e : rec.events())
    if (e.kind == ElectionEventKind::failed && e.identity == "b") {
      EXPECT_EQ(e.error_kind, "http_401");
      EXPECT_EQ(e.http_status, 401);
    }
  EXPECT_EQ(rec.leaderships("b"), 0);
}

TEST_F(LeaderElection, FieldsTheElectorDoesNotManageSurviveItsWrites) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s);
  const auto created = put_directly(
      *store, "POST", leases_path(lock_ns),
      R"({"metadata":{"name":"lock","labels":{"team":"infra"},"annotations":{"note":"keep me"}},)"
      R"("spec":{"holderIdentity":"","leaseDurationSeconds":1,"strategy":"OldestEmulationVersion"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  Recorder rec;
  LeaderElector a(candidate(*s, "a", rec));
  a.start();
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::renewed) >= 1; }, 10s)) << rec.timeline();
  const auto json = store->get_json(lock_ns, lock_name);
  ASSERT_TRUE(json);
  EXPECT_EQ(json->at("metadata").at("labels").at("team"), "infra") << boost::json::serialize(*json);
  EXPECT_EQ(json->at("metadata").at("annotations").at("note"), "keep me");
  EXPECT_EQ(json->at("spec").at("strategy"), "OldestEmulationVersion");
  EXPECT_EQ(json->at("spec").at("holderIdentity"), "a");
}
