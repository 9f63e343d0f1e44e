// The Watcher against a scripted API server (exact streams, exact breaks):
// it lists, then watches from the list's version with bookmarks asked for;
// resumes from the last version it delivered when a stream is cut, goes
// quiet or ends; drops what it already delivered; lists again on 410; backs
// off after failures; and stops promptly mid-stream.
#include "scripted_api.hpp"

#include <rebound/kube/watcher.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;
using namespace std::chrono_literals;

TEST(Watcher, ListsThenWatchesFromTheListsVersionWithBookmarksAskedFor) {
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {"a", "b"});
    if (n == 1) return stream({event("ADDED", "c", "11"), event("MODIFIED", "a", "12"), bookmark("15")}, Reply::End::clean);
    return stream({}, Reply::End::stall);
  });
  Seen seen;
  Client client;
  Watcher w(client, watching(api, seen));
  w.start();
  ASSERT_TRUE(seen.wait_for(4));
  EXPECT_TRUE([&] {
    for (int i = 0; i < 500 && api.requests() < 3; ++i) std::this_thread::sleep_for(10ms);
    return api.requests() >= 3;
  }());
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 10 2", "ADDED c 11", "MODIFIED a 12", "BOOKMARK 15"}));
  const auto t = api.targets();
  EXPECT_EQ(param(t[0], "watch"), "<absent>");
  EXPECT_EQ(param(t[1], "watch"), "true");
  EXPECT_EQ(param(t[1], "resourceVersion"), "10");
  EXPECT_EQ(param(t[1], "allowWatchBookmarks"), "true");
  EXPECT_NE(param(t[1], "timeoutSeconds"), "<absent>");
  EXPECT_EQ(param(t[2], "resourceVersion"), "15") << "a clean end resumes from the last version, bookmarks included";
  EXPECT_EQ(w.resource_version(), "15");
}

TEST(Watcher, ACutStreamResumesFromTheLastDeliveredVersionAndWhatCameBeforeIsDropped) {
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {});
    if (n == 1) return stream({event("ADDED", "a", "11"), event("MODIFIED", "a", "12")}, Reply::End::reset);
    if (n == 2) return stream({event("MODIFIED", "a", "12"), event("MODIFIED", "a", "13")}, Reply::End::stall);
    return stream({}, Reply::End::stall);
  });
  Seen seen;
  Client client;
  Watcher w(client, watching(api, seen));
  w.start();
  ASSERT_TRUE(seen.wait_for(4));
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 10 0", "ADDED a 11", "MODIFIED a 12", "MODIFIED a 13"}));
  EXPECT_EQ(param(api.targets()[2], "resourceVersion"), "12");
  const auto s = w.stats();
  EXPECT_EQ(s.duplicates_dropped, 1u);
  EXPECT_EQ(s.lists, 1u) << "a cut stream is resumed, not re-listed";
}

TEST(Watcher, AVersionGoneFromTheWindowListsAgainAndHandsOverTheWholeList) {
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {"a"});
    if (n == 1) return stream({gone("10")}, Reply::End::stall);  // the server ends it; the client must too
    if (n == 2) return list("50", {"a", "b", "c"});
    return stream({event("DELETED", "b", "51")}, Reply::End::stall);
  });
  Seen seen;
  Client client;
  Watcher w(client, watching(api, seen));
  w.start();
  ASSERT_TRUE(seen.wait_for(3));
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 10 1", "LIST 50 3", "DELETED b 51"}));
  EXPECT_EQ(param(api.targets()[3], "resourceVersion"), "50");
  EXPECT_EQ(w.stats().expired, 1u);
}

TEST(Watcher, AQuietStreamIsClosedAfterTheIdleTimeoutAndResumed) {
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {});
    if (n == 1) return stream({event("ADDED", "a", "11")}, Reply::End::stall);
    return stream({event("MODIFIED", "a", "12")}, Reply::End::stall);
  });
  Seen seen;
  Client client;
  WatcherOptions o = watching(api, seen);
  o.idle_timeout = 300ms;
  Watcher w(client, o);
  const auto t0 = std::chrono::steady_clock::now();
  w.start();
  ASSERT_TRUE(seen.wait_for(3));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  w.stop();
  EXPECT_EQ(seen.all(), (std::vector<std::string>{"LIST 10 0", "ADDED a 11", "MODIFIED a 12"}));
  EXPECT_EQ(param(api.targets()[2], "resourceVersion"), "11");
}

TEST(Watcher, FailedListsBackOffExponentiallyWithJitter) {
  ScriptedApi api([](const std::string&, int n) {
    if (n < 3) return answer(500, R"({"kind":"Status","reason":"InternalError","message":"etcd is sad","code":500})");
    if (n == 3) return list("10", {});
    return stream({}, Reply::End::stall);
  });
  Seen seen;
  std::vector<std::string> statuses;
  std::mutex m;
  Client client;
  WatcherOptions o = watching(api, seen);
  o.backoff_base = 100ms;
  o.backoff_max = 1s;
  o.on_status = [&](const std::string& s) {
    std::lock_guard lock(m);
    statuses.push_back(s);
  };
  Watcher w(client, o);
  const auto t0 = std::chrono::steady_clock::now();
  w.start();
  ASSERT_TRUE(seen.wait_for(1));
  const auto took = std::chrono::steady_clock::now() - t0;
  w.stop();
  EXPECT_EQ(w.stats().failures, 3u);
  // Waits of [50,100] + [100,200] + [200,400] ms at the least.
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 5s);
  std::lock_guard lock(m);
  ASSERT_FALSE(statuses.empty());
  EXPECT_NE(statuses.front().find("etcd is sad"), std::string::npos) << statuses.front();
}

TEST(Watcher, StopEndsRunPromptlyMidStream) {
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {});
    return stream({event("ADDED", "a", "11")}, Reply::End::stall);
  });
  Seen seen;
  Client client;
  Watcher w(client, watching(api, seen));
  std::thread runner([&] { w.run(); });
  ASSERT_TRUE(seen.wait_for(2));
  const auto t0 = std::chrono::steady_clock::now();
  w.stop();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(Watcher, EachWatchAsksForATimeoutBetweenOnceAndTwiceTheOptionSoAFleetDoesNotReconnectTogether) {
  // As client-go's reflector: timeoutSeconds = watch_timeout * (1 + U[0, 1)).
  ScriptedApi api([](const std::string&, int n) {
    if (n == 0) return list("10", {"a"});
    return stream({event("MODIFIED", "a", std::to_string(10 + n))}, Reply::End::clean);
  });
  Seen seen;
  auto o = watching(api, seen);
  o.watch_timeout = std::chrono::seconds(100);
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(seen.wait_for(1 + 8));
  w.stop();
  std::set<int> asked;
  const auto t = api.targets();
  for (std::size_t i = 1; i < t.size(); ++i) {
    const int s = std::stoi(param(t[i], "timeoutSeconds"));
    EXPECT_GE(s, 100) << t[i];
    EXPECT_LT(s, 200) << t[i];
    asked.insert(s);
  }
  EXPECT_GT(asked.size(), 1u) << "every watch asked for the same timeout";
}

TEST(Watcher, AWatchAnswered410AtOnceEveryTimeListsAgainWithBackoffNotInATightLoop) {
  // A server whose window is always past the list's version (a broken or
  // overloaded one): each list is followed by a 410. Backoff 50-400 ms.
  ScriptedApi api([](const std::string& target, int n) {
    if (param(target, "watch") == "<absent>") return list(std::to_string(10 + n), {"a"});
    return stream({gone(std::to_string(10 + n))}, Reply::End::clean);
  });
  Seen seen;
  Client client;
  Watcher w(client, watching(api, seen));
  w.start();
  std::this_thread::sleep_for(2s);
  w.stop();
  int lists = 0;
  for (const auto& t : api.targets()) lists += param(t, "watch") == "<absent>";
  EXPECT_GE(lists, 2) << "it did list again after a 410";
  EXPECT_LE(lists, 20) << "listed " << lists << " times in 2 s: no backoff between 410s";
}
