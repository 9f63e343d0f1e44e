// The Watcher against a scripted API server (exact streams, exact breaks):
// it lists, then watches from the list's version with bookmarks asked for;
// resumes from the last version it delivered when a stream is cut, goes
// quiet or ends; drops what it already delivered; lists again on 410; backs
// off after failures; and stops promptly mid-stream.
#include "support/raw_server.hpp"

#include <rebound/kube/watcher.hpp>

#include <boost/url/parse.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// What the scripted server does with one request.
struct Reply {
  int status = 200;
  std::string body;                // a plain response (when `stream` is empty and !streamed)
  bool streamed = false;           // a chunked stream of `lines`...
  std::vector<std::string> lines;
  enum class End { clean, reset, stall } end = End::clean;  // ...ended so
};

std::string lease_json(const std::string& name, const std::string& rv) {
  return R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":")" + name +
         R"(","namespace":"default","resourceVersion":")" + rv + R"("},"spec":{"holderIdentity":"x"}})";
}
std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return R"({"type":")" + type + R"(","object":)" + lease_json(name, rv) + "}";
}
std::string bookmark(const std::string& rv) {
  return R"({"type":"BOOKMARK","object":{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"resourceVersion":")" +
         rv + R"("}}})";
}
std::string gone(const std::string& rv) {
  return R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: )" +
         rv + R"J( (40)","reason":"Expired","code":410}})J";
}
Reply list(const std::string& rv, const std::vector<std::string>& names) {
  std::string items;
  for (const auto& n : names) items += (items.empty() ? "" : ",") + lease_json(n, rv);
  return {200, R"({"kind":"LeaseList","apiVersion":"coordination.k8s.io/v1","metadata":{"resourceVersion":")" + rv +
                   R"("},"items":[)" + items + "]}"};
}
Reply stream(std::vector<std::string> lines, Reply::End end) {
  Reply r;
  r.streamed = true;
  r.lines = std::move(lines);
  r.end = end;
  return r;
}

// An HTTP/1.1 API server that answers the n-th request (0-based, across
// connections) with script(target, n), and records every target.
class ScriptedApi {
 public:
  using Script = std::function<Reply(const std::string& target, int n)>;
  explicit ScriptedApi(Script script)
      : script_(std::move(script)), server_([this](RawConnection& conn, int) { serve(conn); }) {}

  std::string collection_url() const { return server_.url("/apis/coordination.k8s.io/v1/namespaces/default/leases"); }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
  }
  int requests() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(targets_.size());
  }

 private:
  void serve(RawConnection& conn) {
    for (;;) {
      std::string head;
      try {
        head = conn.read_until("\r\n\r\n", 30s);
      } catch (const std::exception&) {
        return;
      }
      const auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
      const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
      int n;
      {
        std::lock_guard lock(mutex_);
        n = static_cast<int>(targets_.size());
        targets_.push_back(target);
      }
      const Reply r = script_(target, n);
      if (!r.streamed) {
        conn.write("HTTP/1.1 " + std::to_string(r.status) + " X\r\ncontent-type: application/json\r\ncontent-length: " +
                   std::to_string(r.body.size()) + "\r\n\r\n" + r.body);
        continue;
      }
      conn.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
      for (const auto& line : r.lines) {
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", line.size() + 1);
        if (!conn.write(size + line + "\n\r\n")) return;
      }
      switch (r.end) {
        case Reply::End::clean: conn.write("0\r\n\r\n"); break;
        case Reply::End::reset: conn.reset(); return;
        case Reply::End::stall: conn.read_some(30s); return;
      }
    }
  }

  Script script_;
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  RawServer server_;  // last: its threads call serve() until it is destroyed
};

std::string param(const std::string& target, std::string_view key) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return "<unparsable>";
  auto it = u->params().find(key);
  return it == u->params().end() ? "<absent>" : std::string((*it).value);
}

// Records what a watcher hands over.
struct Seen {
  std::mutex m;
  std::vector<std::string> log;  // "LIST rv n", "ADDED name rv", "BOOKMARK rv"
  void add(std::string s) {
    std::lock_guard lock(m);
    log.push_back(std::move(s));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(m);
    return log;
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (all().size() >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

WatcherOptions watching(const ScriptedApi& api, Seen& seen) {
  WatcherOptions o;
  o.collection_url = api.collection_url();
  o.backoff_base = 50ms;
  o.backoff_max = 400ms;
  o.on_list = [&seen](const std::vector<boost::json::object>& items, const std::string& rv) {
    seen.add("LIST " + rv + " " + std::to_string(items.size()));
  };
  o.on_event = [&seen](const WatchEvent& e) {
    std::string name;
    if (const auto* meta = e.object.if_contains("metadata"))
      if (const auto* n = meta->get_object().if_contains("name")) name = std::string(n->get_string()) + " ";
    seen.add(std::string(to_string(e.type)) + " " + name + e.resource_version);
  };
  return o;
}

}  // namespace

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
    if (n < 3) return Reply{500, R"({"kind":"Status","reason":"InternalError","message":"etcd is sad","code":500})"};
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
