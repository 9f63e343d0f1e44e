// The Watcher where the caller or the server is awkward (issue 21 item 6):
// a callback slower than the stream, a watch started at version "0" whose
// first events come in key order, a version the server has not reached yet
// ("too large resource version"), and an error answer to a watch request.
// Each is served by the scripted API server: exact streams, exact answers.
#include "scripted_api.hpp"

#include <rebound/kube/watcher.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;
using namespace std::chrono_literals;

namespace {

// A watch from `target`'s resourceVersion on a history where lease "a" was
// modified at every version from 11 to `last`: what follows that version.
std::vector<std::string> history_after(const std::string& target, int last) {
  std::vector<std::string> lines;
  for (int v = std::stoi(param(target, "resourceVersion")) + 1; v <= last; ++v)
    lines.push_back(event("MODIFIED", "a", std::to_string(v)));
  return lines;
}

// kube-apiserver's answer to a watch from a version it has not reached yet
// (a lagging API server, an etcd restored from a backup).
std::string too_large_status(int asked, int current) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too large resource version: )" +
         std::to_string(asked) + ", current: " + std::to_string(current) +
         R"(","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504})";
}

// Waits (at most 10 s) for `done` to hold.
template <typename Condition>
bool eventually(Condition done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

}  // namespace

TEST(WatcherHardCases, ACallbackSlowerThanTheStreamHoldsTheQueueToItsBoundAndTheWatchResumesLosingAndRepeatingNothing) {
  // 2000 events (about 340 KB) arrive while on_event is held on the first
  // of them; the watcher may hold 16 KB of them.
  constexpr int last = 10 + 2000;
  constexpr std::size_t bound = 16 * 1024;
  ScriptedApi api([](const std::string& target, int n) {
    if (n == 0) return list("10", {"a"});
    return stream(history_after(target, last), Reply::End::stall);
  });
  Seen seen;
  auto o = watching(api, seen);
  o.max_queued_bytes = bound;
  const auto record = o.on_event;
  bool held = false;
  o.on_event = [&](const WatchEvent& e) {
    if (!held) {  // held until the server has written (or could not write) the whole first stream
      held = true;
      for (int i = 0; i < 1000 && api.streams_written() == 0; ++i) std::this_thread::sleep_for(10ms);
    }
    record(e);
  };
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(seen.wait_for(1 + 2000)) << seen.all().size() - 1 << " events delivered";
  w.stop();

  std::vector<std::string> expected{"LIST 10 1"};
  for (int v = 11; v <= last; ++v) expected.push_back("MODIFIED a " + std::to_string(v));
  EXPECT_EQ(seen.all(), expected) << "every version once, in order";
  const auto s = w.stats();
  EXPECT_LE(s.queue_peak_bytes, bound);
  EXPECT_GE(s.overflows, 1u);
  EXPECT_EQ(s.failures, 0u) << "falling behind is not a failure of the server: no backoff";
  EXPECT_EQ(s.lists, 1u) << "an overflow resumes from the last delivered version; it need not list";
  const auto t = api.targets();
  ASSERT_GE(t.size(), 3u);
  const int resumed_from = std::stoi(param(t[2], "resourceVersion"));
  EXPECT_GT(resumed_from, 10);
  EXPECT_LT(resumed_from, last);
}

TEST(WatcherHardCases, AWatchFromVersion0DeliversTheServersInitialAddedEventsThoughTheyComeInKeyOrderNotVersionOrder) {
  // kube-apiserver starts a watch at "0" with an ADDED event per object,
  // in key order: a, b, c here, changed last at 57, 30 and 12.
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0)
      return stream({event("ADDED", "a", "57"), event("ADDED", "b", "30"), event("ADDED", "c", "12"),
                     event("MODIFIED", "b", "60")},
                    Reply::End::clean);
    return stream({}, Reply::End::stall);
  });
  Seen seen;
  auto o = watching(api, seen);
  o.resource_version = "0";
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(eventually([&] { return api.requests() >= 2; })) << "no resume after the first stream";
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"ADDED a 57", "ADDED b 30", "ADDED c 12", "MODIFIED b 60"}));
  const auto t = api.targets();
  EXPECT_EQ(param(t[0], "resourceVersion"), "0");
  EXPECT_EQ(param(t[1], "resourceVersion"), "60") << "the stream ended after its initial events: it resumes";
  EXPECT_EQ(w.stats().duplicates_dropped, 0u);
  EXPECT_EQ(w.stats().lists, 0u);
}

TEST(WatcherHardCases, AWatchFromVersion0CutBeforeItsInitialEventsAreKnownCompleteListsInsteadOfResuming) {
  // Resuming from 57 would lose c (changed at 12, not sent yet); from "0",
  // repeat a and b. A list replaces the state without either.
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return stream({event("ADDED", "a", "57"), event("ADDED", "b", "30")}, Reply::End::reset);
    if (n == 1) return list("70", {"a", "b", "c"});
    return stream({}, Reply::End::stall);
  });
  Seen seen;
  auto o = watching(api, seen);
  o.resource_version = "0";
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(eventually([&] { return api.requests() >= 3; }));
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"ADDED a 57", "ADDED b 30", "LIST 70 3"}));
  const auto t = api.targets();
  EXPECT_EQ(param(t[1], "watch"), "<absent>") << "the second request should be a list: " << t[1];
  EXPECT_EQ(param(t[2], "resourceVersion"), "70");
}

TEST(WatcherHardCases, AWatchAnsweredWithAnErrorIsReportedWithItsHttpStatusAndTheStatusReasonAndMessage) {
  const std::string forbidden =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"leases.coordination.k8s.io is forbidden: User \"bob\" cannot watch resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"default\"","reason":"Forbidden","details":{"group":"coordination.k8s.io","kind":"leases"},"code":403})";
  ScriptedApi api([&](const std::string&, int n) {
    if (n == 0) return list("10", {});
    if (n == 1) {  // streamed, and ended a little after its Status object
      Reply r = stream({forbidden}, Reply::End::clean);
      r.status = 403;
      r.end_after = 300ms;
      return r;
    }
    if (n == 2) return answer(502, "<html><body>upstream connect error</body></html>");  // a proxy's, unterminated
    return stream({event("ADDED", "a", "11")}, Reply::End::stall);
  });
  Seen seen;
  std::mutex m;
  std::vector<std::string> statuses;
  auto o = watching(api, seen);
  o.on_status = [&](const std::string& s) {
    std::lock_guard lock(m);
    statuses.push_back(s);
  };
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(seen.wait_for(2));
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 10 0", "ADDED a 11"}));
  EXPECT_EQ(w.stats().failures, 2u);
  std::lock_guard lock(m);
  const auto said = [&](const std::vector<std::string>& parts) {
    for (const auto& s : statuses) {
      bool all = true;
      for (const auto& p : parts) all &= s.find(p) != std::string::npos;
      if (all) return true;
    }
    return false;
  };
  EXPECT_TRUE(said({"HTTP 403", "Forbidden", R"(User "bob" cannot watch resource "leases" in API group)"}))
      << ::testing::PrintToString(statuses);
  EXPECT_TRUE(said({"HTTP 502", "upstream connect error"})) << ::testing::PrintToString(statuses);
}

TEST(WatcherHardCases, ALineThatIsNotAnEventInAnOkStreamEndsItWithinASecondAndTheWatchResumes) {
  // Not an error answer, so it does not end by itself: the watcher ends it.
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {});
    if (n == 1) return stream({event("ADDED", "a", "11"), "this is not JSON", event("ADDED", "b", "12")}, Reply::End::stall);
    return stream({event("ADDED", "b", "12")}, Reply::End::stall);
  });
  Seen seen;
  Client client;
  Watcher w(client, watching(api, seen));
  const auto t0 = std::chrono::steady_clock::now();
  w.start();
  ASSERT_TRUE(seen.wait_for(3));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 10 0", "ADDED a 11", "ADDED b 12"}))
      << "nothing after the bad line is delivered from that stream";
  EXPECT_EQ(param(api.targets()[2], "resourceVersion"), "11");
  EXPECT_EQ(w.stats().failures, 1u);
}

TEST(WatcherHardCases, AVersionTheServerHasNotReachedListsAgainAfterABackoffWhetherAnsweredOrSentAsAnErrorEvent) {
  // The watcher starts from 50 on a server at 20: a 504 answer. Its list
  // (at 20) is then refused on a newer server's way, as an ERROR event.
  std::atomic<int> lists{0};
  ScriptedApi api([&](const std::string& target, int) {
    if (param(target, "watch") == "<absent>") return ++lists == 1 ? list("20", {"a"}) : list("22", {"a", "b"});
    const std::string from = param(target, "resourceVersion");
    if (from == "50") return answer(504, too_large_status(50, 20));
    if (from == "20") return stream({R"({"type":"ERROR","object":)" + too_large_status(20, 19) + "}"}, Reply::End::stall);
    return stream({event("ADDED", "c", "23")}, Reply::End::stall);
  });
  Seen seen;
  std::mutex m;
  std::vector<std::string> statuses;
  auto o = watching(api, seen);
  o.resource_version = "50";
  o.on_status = [&](const std::string& s) {
    std::lock_guard lock(m);
    statuses.push_back(s);
  };
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(seen.wait_for(3, 3s)) << ::testing::PrintToString(api.targets());
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 20 1", "LIST 22 2", "ADDED c 23"}));
  const auto t = api.targets();
  EXPECT_EQ(param(t[1], "watch"), "<absent>") << t[1];
  EXPECT_EQ(param(t[3], "watch"), "<absent>") << t[3];
  EXPECT_EQ(param(t[4], "resourceVersion"), "22");
  EXPECT_EQ(w.stats().failures, 2u);
  std::lock_guard lock(m);
  int refused = 0, backed_off = 0;  // backoffs each after a refusal, before the next one
  for (const auto& line : statuses) {
    if (line.find("Too large resource version") != std::string::npos) ++refused;
    if (line.rfind("backing off", 0) == 0 && backed_off < refused) ++backed_off;
  }
  EXPECT_EQ(refused, 2) << ::testing::PrintToString(statuses);
  EXPECT_EQ(backed_off, 2) << "each refusal is followed by a backoff: " << ::testing::PrintToString(statuses);
}
