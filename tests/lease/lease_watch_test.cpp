// The Lease API's list and watch, as kube-apiserver serves them: LeaseList
// at the store's revision with field and label selectors; watch streams of
// ADDED/MODIFIED/DELETED in version order from a resourceVersion, synthetic
// ADDED from "0", one ERROR 410 Expired event for a version older than the
// window, BOOKMARKs when asked, timeoutSeconds, and streams that end with
// the server (stop: clean; kill: cut) or with their client. Also the send
// log, 403 for read-only users, and what survives a restart (versions, not
// watches). Writes go to the store directly; watches are read over HTTP/1.1.
#include "lease/lease_fixtures.hpp"
#include "lease/watch_client.hpp"

#include <rebound/lease_server/lease_store.hpp>
#include <rebound/server/server.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace rebound::lease::testing {
namespace {

using namespace std::chrono_literals;
using server::ServerRequest;
using server::ServerResponse;

constexpr const char* kLeases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";

std::string temp_path(const std::string& what) {
  return (std::filesystem::temp_directory_path() /
          ("rebound-watch-" + what + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())))
      .string();
}

class LeaseWatchTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void TearDown() override {
    server_.reset();
    store_.reset();
    for (const auto& f : files_) std::filesystem::remove(f);
  }

  void start(LeaseStoreOptions options) {
    server_.reset();
    store_.reset();
    if (options.bookmark_interval == LeaseStoreOptions{}.bookmark_interval) options.bookmark_interval = 200ms;
    server_ = std::make_unique<server::Server>();
    store_ = install_lease_api(*server_, std::move(options));
    server_->start();
  }

  std::string file(const std::string& what) {
    files_.push_back(temp_path(what));
    return files_.back();
  }

  ServerResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                      bool read_only = false) {
    ServerRequest r;
    r.method = method;
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    r.body = body;
    r.read_only = read_only;
    r.user = read_only ? "reader" : "admin";
    return store_->handle(r);
  }

  boost::json::object json(const ServerResponse& r) { return boost::json::parse(r.body).as_object(); }

  // Creates or updates `name` with `holder`; returns the new resourceVersion.
  std::string write(const std::string& name, const std::string& holder, const std::string& ns = "default",
                    const std::string& labels = "{}") {
    const std::string base = "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases";
    auto current = store_->get_json(ns, name);
    std::string rv = current ? std::string(current->at("metadata").at("resourceVersion").as_string()) : "";
    const std::string body = R"({"metadata":{"name":")" + name + R"(","labels":)" + labels +
                             (rv.empty() ? "" : R"(,"resourceVersion":")" + rv + "\"") +
                             R"(},"spec":{"holderIdentity":")" + holder + R"("}})";
    auto r = current ? call("PUT", base + "/" + name, body) : call("POST", base, body);
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.body;
    return std::string(json(r).at("metadata").at("resourceVersion").as_string());
  }

  std::string remove(const std::string& name) {
    EXPECT_EQ(call("DELETE", std::string(kLeases) + "/" + name).status, 200);
    return std::to_string(store_->revision());
  }

  std::unique_ptr<WatchClient> watch(const std::string& query) {
    auto w = std::make_unique<WatchClient>(server_->port(), std::string(kLeases) + "?watch=true&" + query);
    EXPECT_EQ(w->status(), 200) << w->head();
    return w;
  }

  static std::string type(const boost::json::object& e) { return std::string(e.at("type").as_string()); }
  static std::string name(const boost::json::object& e) {
    return std::string(e.at("object").at("metadata").at("name").as_string());
  }
  static std::string version(const boost::json::object& e) {
    return std::string(e.at("object").at("metadata").at("resourceVersion").as_string());
  }
  static std::string holder(const boost::json::object& e) {
    return std::string(e.at("object").at("spec").at("holderIdentity").as_string());
  }

  // The next event that is not a BOOKMARK.
  static std::optional<boost::json::object> next_change(WatchClient& w, std::chrono::milliseconds limit = 5s) {
    while (auto e = w.next(limit))
      if (type(*e) != "BOOKMARK") return e;
    return std::nullopt;
  }

  std::unique_ptr<server::Server> server_;
  std::shared_ptr<LeaseStore> store_;
  std::vector<std::string> files_;
};

TEST_F(LeaseWatchTest, ListIsALeaseListAtTheStoreRevisionWithSelectors) {
  write("a", "x", "default", R"({"app":"one"})");
  write("b", "y", "default", R"({"app":"two"})");
  write("c", "z", "other");
  auto all = json(call("GET", kLeases));
  EXPECT_EQ(all.at("kind").as_string(), "LeaseList");
  EXPECT_EQ(all.at("apiVersion").as_string(), "coordination.k8s.io/v1");
  EXPECT_EQ(all.at("metadata").at("resourceVersion").as_string(), std::to_string(store_->revision()));
  EXPECT_EQ(all.at("items").as_array().size(), 2u);

  auto by_name = json(call("GET", std::string(kLeases) + "?fieldSelector=metadata.name%3Db"));
  ASSERT_EQ(by_name.at("items").as_array().size(), 1u);
  EXPECT_EQ(by_name.at("items").at(0).at("metadata").at("name").as_string(), "b");
  auto by_label = json(call("GET", std::string(kLeases) + "?labelSelector=app%3Done"));
  ASSERT_EQ(by_label.at("items").as_array().size(), 1u);
  EXPECT_EQ(by_label.at("items").at(0).at("metadata").at("name").as_string(), "a");
  EXPECT_EQ(json(call("GET", std::string(kLeases) + "?labelSelector=app!%3Done")).at("items").as_array().size(), 1u);
  EXPECT_EQ(json(call("GET", std::string(kLeases) + "?labelSelector=app")).at("items").as_array().size(), 2u);

  auto everywhere = json(call("GET", "/apis/coordination.k8s.io/v1/leases"));
  EXPECT_EQ(everywhere.at("items").as_array().size(), 3u);
  EXPECT_EQ(call("POST", "/apis/coordination.k8s.io/v1/leases", "{}").status, 405);

  auto bad = call("GET", std::string(kLeases) + "?fieldSelector=spec.holderIdentity%3Dx");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json(bad).at("message").as_string(), "field label not supported: spec.holderIdentity");
  EXPECT_EQ(call("GET", std::string(kLeases) + "?labelSelector=app+in+(a)").status, 400);

  // resourceVersion: "not older than" by default; Exact can only name the current state.
  const auto now = store_->revision();
  EXPECT_EQ(call("GET", std::string(kLeases) + "?resourceVersion=" + std::to_string(now - 1)).status, 200);
  auto expired = call("GET", std::string(kLeases) + "?resourceVersionMatch=Exact&resourceVersion=" +
                                 std::to_string(now - 1));
  EXPECT_EQ(expired.status, 410);
  EXPECT_EQ(json(expired).at("reason").as_string(), "Expired");
  auto future = call("GET", std::string(kLeases) + "?resourceVersion=" + std::to_string(now + 1000000));
  EXPECT_EQ(future.status, 504);
  EXPECT_EQ(json(future).at("reason").as_string(), "Timeout");
}

TEST_F(LeaseWatchTest, WatchFromZeroStartsWithAddedThenFollowsEveryChangeInOrder) {
  const std::string v0 = write("a", "x");
  auto w = watch("resourceVersion=0");
  auto first = next_change(*w);
  ASSERT_TRUE(first);
  EXPECT_EQ(type(*first), "ADDED");
  EXPECT_EQ(name(*first), "a");
  EXPECT_EQ(version(*first), v0);

  const std::string v1 = write("b", "y");
  const std::string v2 = write("a", "z");
  const std::string v3 = remove("b");
  const std::vector<std::tuple<std::string, std::string, std::string>> expected = {
      {"ADDED", "b", v1}, {"MODIFIED", "a", v2}, {"DELETED", "b", v3}};
  for (const auto& [t, n, v] : expected) {
    auto e = next_change(*w);
    ASSERT_TRUE(e) << "missing " << t << " " << n;
    EXPECT_EQ(type(*e), t);
    EXPECT_EQ(name(*e), n);
    EXPECT_EQ(version(*e), v) << "a DELETED object carries the deletion's version";
  }
  EXPECT_FALSE(next_change(*w, 300ms)) << "no event twice";
  EXPECT_EQ(w->head().find("content-type: application/json") != std::string::npos ||
                w->head().find("Content-Type: application/json") != std::string::npos,
            true)
      << w->head();
}

TEST_F(LeaseWatchTest, WatchFromAVersionReplaysOnlyLaterChanges) {
  write("a", "1");
  const std::string from = write("a", "2");
  const std::string v3 = write("a", "3");
  const std::string v4 = write("b", "4");
  auto w = watch("resourceVersion=" + from);
  auto e3 = next_change(*w);
  auto e4 = next_change(*w);
  ASSERT_TRUE(e3 && e4);
  EXPECT_EQ(version(*e3), v3);
  EXPECT_EQ(holder(*e3), "3");
  EXPECT_EQ(type(*e4), "ADDED");
  EXPECT_EQ(version(*e4), v4);
  EXPECT_FALSE(next_change(*w, 300ms));
}

TEST_F(LeaseWatchTest, FieldSelectorWatchesOneLease) {
  auto w = watch("fieldSelector=metadata.name%3Dmine");
  write("other", "x");
  const std::string mine = write("mine", "y");
  auto e = next_change(*w);
  ASSERT_TRUE(e);
  EXPECT_EQ(name(*e), "mine");
  EXPECT_EQ(version(*e), mine);
}

TEST_F(LeaseWatchTest, AVersionOlderThanTheWindowGetsOneExpiredErrorAndTheStreamEnds) {
  LeaseStoreOptions o;
  o.watch_window = 2;
  start(o);
  const std::string old = write("a", "1");
  write("a", "2");
  write("a", "3");
  write("a", "4");  // the window holds 3 and 4: changes after `old` are gone
  auto w = watch("resourceVersion=" + old);
  auto e = w->next();
  ASSERT_TRUE(e);
  EXPECT_EQ(type(*e), "ERROR");
  const auto& status = e->at("object").as_object();
  EXPECT_EQ(status.at("kind").as_string(), "Status");
  EXPECT_EQ(status.at("code").to_number<int>(), 410);
  EXPECT_EQ(status.at("reason").as_string(), "Expired");
  EXPECT_TRUE(std::string(status.at("message").as_string()).starts_with("too old resource version: " + old + " ("))
      << status.at("message");
  EXPECT_EQ(w->end(3s), WatchClient::End::clean);
}

TEST_F(LeaseWatchTest, BookmarksComeOnlyWhenAskedAndCarryTheCurrentVersion) {
  const std::string v = write("a", "1");
  auto with = watch("resourceVersion=" + v + "&allowWatchBookmarks=true");
  auto without = watch("resourceVersion=" + v);
  auto b = with->next(3s);
  ASSERT_TRUE(b);
  EXPECT_EQ(type(*b), "BOOKMARK");
  EXPECT_EQ(version(*b), v);
  EXPECT_EQ(b->at("object").at("kind").as_string(), "Lease");
  const std::string v2 = write("a", "2");
  auto e = next_change(*with);
  ASSERT_TRUE(e);
  EXPECT_EQ(version(*e), v2);
  std::optional<boost::json::object> later;
  while ((later = with->next(3s)) && type(*later) != "BOOKMARK") {
  }
  ASSERT_TRUE(later);
  EXPECT_EQ(version(*later), v2);
  auto plain = without->next(1s);
  ASSERT_TRUE(plain);
  EXPECT_EQ(type(*plain), "MODIFIED") << "no bookmarks unless asked";
}

TEST_F(LeaseWatchTest, TimeoutSecondsEndsTheStreamCleanly) {
  const auto started = std::chrono::steady_clock::now();
  auto w = watch("timeoutSeconds=1");
  EXPECT_EQ(w->end(5s), WatchClient::End::clean);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 4s);
}

TEST_F(LeaseWatchTest, AWatcherThatLeavesIsForgotten) {
  auto w = watch("");
  EXPECT_TRUE(wait_until([&] { return store_->watchers() == 1; }, 3s));
  w->close();
  EXPECT_TRUE(wait_until([&] { return store_->watchers() == 0; }, 3s)) << "the stream of a gone client leaks";
}

TEST_F(LeaseWatchTest, StopEndsWatchesCleanlyAndKillCutsThem) {
  auto w = watch("");
  ASSERT_TRUE(wait_until([&] { return store_->watchers() == 1; }, 3s));
  server_->stop(5s);
  EXPECT_EQ(w->end(3s), WatchClient::End::clean) << "an API server ends its watches cleanly on shutdown";

  server_->restart();
  auto cut = watch("");
  ASSERT_TRUE(wait_until([&] { return store_->watchers() == 1; }, 3s));
  server_->kill();
  EXPECT_EQ(cut->end(3s), WatchClient::End::cut);
  EXPECT_TRUE(wait_until([&] { return store_->watchers() == 0; }, 3s));
}

TEST_F(LeaseWatchTest, SendLogRecordsEachCommitAndWhatEachWatchWasSent) {
  LeaseStoreOptions o;
  o.watch_log = file("log");
  start(o);
  const std::string v1 = write("a", "1");
  auto w = watch("resourceVersion=" + v1);
  const std::string v2 = write("a", "2");
  const std::string v3 = remove("a");
  ASSERT_TRUE(next_change(*w));
  ASSERT_TRUE(next_change(*w));
  std::ifstream in(o.watch_log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  ASSERT_EQ(lines.size(), 5u) << all;
  EXPECT_EQ(lines[0], "commit ADDED default/a " + v1);
  EXPECT_EQ(lines[1], "commit MODIFIED default/a " + v2);
  const std::string id = lines[2].substr(0, lines[2].find(' '));
  EXPECT_TRUE(id.starts_with("w")) << lines[2];
  EXPECT_EQ(lines[2], id + " MODIFIED default/a " + v2);
  EXPECT_EQ(lines[3], "commit DELETED default/a " + v3);
  EXPECT_EQ(lines[4], id + " DELETED default/a " + v3);
}

TEST_F(LeaseWatchTest, ReadOnlyUsersMayReadButNotWrite) {
  write("a", "1");
  EXPECT_EQ(call("GET", kLeases, "", true).status, 200);
  EXPECT_EQ(call("GET", std::string(kLeases) + "/a", "", true).status, 200);
  auto put = call("PUT", std::string(kLeases) + "/a", R"({"metadata":{"name":"a"},"spec":{}})", true);
  EXPECT_EQ(put.status, 403);
  auto status = json(put);
  EXPECT_EQ(status.at("reason").as_string(), "Forbidden");
  EXPECT_EQ(status.at("message").as_string(),
            "leases.coordination.k8s.io \"a\" is forbidden: User \"reader\" cannot update resource \"leases\" in API "
            "group \"coordination.k8s.io\" in the namespace \"default\"");
  EXPECT_EQ(call("POST", kLeases, R"({"metadata":{"name":"b"}})", true).status, 403);
  EXPECT_EQ(call("DELETE", std::string(kLeases) + "/a", "", true).status, 403);
  EXPECT_TRUE(store_->get("default", "a").has_value());
}

TEST_F(LeaseWatchTest, ARestartedStoreKeepsVersionsButNotWatches) {
  LeaseStoreOptions o;
  o.persist_path = file("store");
  files_.push_back(o.persist_path + ".lock");
  start(o);
  const std::string v1 = write("a", "1");
  const std::string v2 = write("a", "2");
  auto w = watch("resourceVersion=" + v2);
  ASSERT_TRUE(wait_until([&] { return store_->watchers() == 1; }, 3s));

  start(o);  // a new server and store on the same file
  EXPECT_EQ(w->end(3s), WatchClient::End::cut) << "a watch does not survive a restart";
  // A client that saw everything resumes; one that missed a change re-lists.
  auto resumed = watch("resourceVersion=" + v2);
  const std::string v3 = write("a", "3");
  EXPECT_GT(std::stoull(v3), std::stoull(v2)) << "versions keep increasing across restarts";
  auto e = next_change(*resumed);
  ASSERT_TRUE(e);
  EXPECT_EQ(version(*e), v3);
  auto gone = watch("resourceVersion=" + v1);
  auto error = gone->next();
  ASSERT_TRUE(error);
  EXPECT_EQ(type(*error), "ERROR");
  EXPECT_EQ(error->at("object").at("code").to_number<int>(), 410);
}

}  // namespace
}  // namespace rebound::lease::testing
