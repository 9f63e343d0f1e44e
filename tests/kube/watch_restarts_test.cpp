// A Watcher on the real `rebound serve` (HTTP/2 over TLS, leases persisted)
// while a writer keeps changing leases and the server is SIGKILLed and
// restarted three times and sends a GOAWAY once: the server's send log
// records every committed change, and every one of them reaches the
// watcher - as an event, or inside a re-list taken after it - none twice,
// and the watcher ends with exactly the server's state.
#include "integration/child_server.hpp"

#include <rebound/kube/watcher.hpp>
#include <rebound/lease/lease.hpp>
#include <rebound/server/server.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace rebound;
using namespace rebound::kube;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string name_of(const json::object& o) {
  return std::string(o.at("metadata").as_object().at("name").as_string());
}
std::string version_of(const json::object& o) {
  return std::string(o.at("metadata").as_object().at("resourceVersion").as_string());
}

// What the watcher handed over, in order, and the state it implies.
struct Record {
  std::mutex m;
  std::vector<std::pair<char, std::uint64_t>> log;  // ('L', list rv) or ('E', event rv)
  std::map<std::string, std::string> state;         // name -> resourceVersion
  std::uint64_t last = 0;
};

// The "commit TYPE ns/name rv" lines of the server's send log.
std::vector<std::uint64_t> committed(const std::string& log) {
  std::ifstream in(log);
  std::vector<std::uint64_t> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag, type, name;
    std::uint64_t rv = 0;
    if (ls >> tag >> type >> name >> rv && tag == "commit") out.push_back(rv);
  }
  return out;
}

}  // namespace

TEST(WatchAcrossRestarts, ThreeKillsAndAGoawayLoseNoChangeAndRepeatNone) {
  const auto dir = std::filesystem::temp_directory_path() / ("rebound-watch-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string log = (dir / "watch.log").string();
  server::write_self_signed_certificate(cert, key);
  rebound::testing::ChildServer child({"--tls", "--port", "0", "--cert", cert, "--key", key, "--leases-file",
                              (dir / "leases.json").string(), "--watch-log", log, "--bookmark-interval", "200ms"},
                                       /*commands=*/true);
  const std::string collection = child.url() + lease::leases_path("default");

  Options o;
  o.tls.ca_file = cert;
  Client watch_client(o);
  Record rec;
  WatcherOptions w;
  w.collection_url = collection;
  w.idle_timeout = 2s;
  w.watch_timeout = 30s;
  w.backoff_base = 50ms;
  w.backoff_max = 400ms;
  w.on_list = [&](const std::vector<json::object>& items, const std::string& rv) {
    std::lock_guard lock(rec.m);
    rec.log.emplace_back('L', std::stoull(rv));
    rec.state.clear();
    for (const auto& i : items) rec.state[name_of(i)] = version_of(i);
    rec.last = std::stoull(rv);
  };
  w.on_event = [&](const WatchEvent& e) {
    std::lock_guard lock(rec.m);
    rec.last = std::stoull(e.resource_version);
    if (e.type == WatchEvent::Type::bookmark) return;
    rec.log.emplace_back('E', rec.last);
    if (e.type == WatchEvent::Type::deleted) rec.state.erase(name_of(e.object));
    else rec.state[name_of(e.object)] = e.resource_version;
  };
  Watcher watcher(watch_client, w);
  watcher.start();

  // The writer: creates four leases, then keeps replacing them.
  std::atomic<bool> writing{true};
  std::atomic<int> writes_ok{0};
  std::thread writer([&] {
    Options wo = o;
    wo.wait_for_ready = true;  // writes wait out the restarts
    Client c(wo);
    std::map<std::string, json::object> leases;
    for (int n = 0; writing; ++n) {
      const std::string name = "l" + std::to_string(n % 4);
      json::object body;
      auto it = leases.find(name);
      Request r;
      if (it == leases.end()) {
        body = {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                {"metadata", {{"name", name}, {"namespace", "default"}}}, {"spec", json::object{}}};
        r = Request("POST", collection);
      } else {
        body = it->second;
        r = Request("PUT", collection + "/" + name);
      }
      body["spec"].as_object()["holderIdentity"] = "writer-" + std::to_string(n);
      r.body(json::serialize(body)).header("content-type", "application/json").timeout(5s);
      auto res = c.send(std::move(r));
      if (res && (res->status() == 200 || res->status() == 201)) {
        leases[name] = json::parse(res->body()).as_object();
        ++writes_ok;
      } else if (res && res->status() == 409) {
        leases.erase(name);  // re-read by creating again or the next PUT's answer
        auto got = c.send(Request::get(collection + "/" + name).timeout(5s));
        if (got && got->status() == 200) leases[name] = json::parse(got->body()).as_object();
      }
      std::this_thread::sleep_for(15ms);
    }
  });

  std::this_thread::sleep_for(800ms);
  for (int i = 0; i < 3; ++i) {
    child.restart_same_port();  // SIGKILL, then the same file and port
    std::this_thread::sleep_for(800ms);
  }
  ASSERT_TRUE(child.command("goaway"));
  std::this_thread::sleep_for(800ms);
  writing = false;
  writer.join();

  // The watcher catches up with the last committed change.
  const auto commits = committed(log);
  ASSERT_FALSE(commits.empty());
  const std::uint64_t final_rv = *std::max_element(commits.begin(), commits.end());
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard lock(rec.m);
      if (rec.last >= final_rv) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  watcher.stop();
  const auto stats = watcher.stats();

  std::lock_guard lock(rec.m);
  EXPECT_GE(rec.last, final_rv) << "the watcher never caught up";
  EXPECT_GT(writes_ok.load(), 50);
  // Every committed change reached the watcher: as an event, or inside a
  // list whose version is at least its own. None twice.
  std::set<std::uint64_t> delivered, listed_up_to;
  std::uint64_t covered_by_list = 0;
  std::set<std::uint64_t> events;
  int repeats = 0;
  for (const auto& [kind, rv] : rec.log) {
    if (kind == 'L') covered_by_list = std::max(covered_by_list, rv);
    else if (!events.insert(rv).second) ++repeats;
  }
  int missing = 0, via_list = 0;
  std::string first_missing;
  for (const auto c : commits) {
    if (events.count(c)) continue;
    if (c <= covered_by_list) {
      ++via_list;
      continue;
    }
    if (++missing == 1) first_missing = std::to_string(c);
  }
  EXPECT_EQ(repeats, 0) << "an event was delivered twice";
  EXPECT_EQ(missing, 0) << "committed changes the watcher never saw; first: " << first_missing;
  EXPECT_GE(stats.watches, 4u) << "the watch was not cut and resumed after each kill";
  ::testing::Test::RecordProperty("commits", static_cast<int>(commits.size()));
  ::testing::Test::RecordProperty("via_relist", via_list);
  std::cout << commits.size() << " commits; " << events.size() << " as events, " << via_list
            << " inside a re-list; watches " << stats.watches << ", lists " << stats.lists << ", expired "
            << stats.expired << ", duplicates dropped " << stats.duplicates_dropped << "\n";

  // The watcher's state is the server's.
  Client check(o);
  auto list = check.send(Request::get(collection).timeout(5s));
  ASSERT_TRUE(list) << list.error().message();
  ASSERT_EQ(list->status(), 200) << list->body();
  std::map<std::string, std::string> server_state;
  const json::value doc = json::parse(list->body());
  for (const auto& i : doc.as_object().at("items").as_array())
    server_state[name_of(i.as_object())] = version_of(i.as_object());
  EXPECT_EQ(rec.state, server_state);
  std::filesystem::remove_all(dir);
}
