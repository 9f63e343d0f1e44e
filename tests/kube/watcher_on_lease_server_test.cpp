// The Watcher on the embedded Lease API (the server of `rebound serve
// --leases`, in this process), which answers as kube-apiserver does: a
// watch from "0" starts with an ADDED event per lease in name order, not
// version order, and every one is delivered; a watch from a version the
// server has not reached is answered 504 "Too large resource version", and
// the watcher lists again and goes on from the list.
#include <rebound/kube/watcher.hpp>
#include <rebound/lease/lease.hpp>
#include <rebound/lease_server/lease_store.hpp>
#include <rebound/server/server.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::kube;
using namespace std::chrono_literals;

namespace {

class WatcherOnLeaseServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<server::Server>();
    store_ = lease::install_lease_api(*server_);
    server_->start();
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
  }

  std::string collection() const { return server_->url() + lease::leases_path("default"); }

  // Creates lease `name`; returns its resourceVersion.
  std::string create(const std::string& name) {
    auto r = client_.send(Request::post(collection(), R"({"metadata":{"name":")" + name + R"("},"spec":{}})",
                                        "application/json"));
    EXPECT_TRUE(r && r->status() == 201) << (r ? r->body() : r.error().message());
    if (!r) return "";
    return std::string(boost::json::parse(r->body()).at("metadata").at("resourceVersion").as_string());
  }

  // What a watcher hands over, one line each: "LIST rv n", "ADDED name rv".
  struct Log {
    std::mutex m;
    std::vector<std::string> lines;
    void add(std::string s) {
      std::lock_guard lock(m);
      lines.push_back(std::move(s));
    }
    std::vector<std::string> all() {
      std::lock_guard lock(m);
      return lines;
    }
    bool wait_for(std::size_t n) {
      for (int i = 0; i < 500 && all().size() < n; ++i) std::this_thread::sleep_for(10ms);
      return all().size() >= n;
    }
  };

  WatcherOptions options(Log& log) const {
    WatcherOptions o;
    o.collection_url = collection();
    o.backoff_base = 50ms;
    o.backoff_max = 400ms;
    o.on_list = [&log](const std::vector<boost::json::object>& items, const std::string& rv) {
      log.add("LIST " + rv + " " + std::to_string(items.size()));
    };
    o.on_event = [&log](const WatchEvent& e) {
      if (e.type == WatchEvent::Type::bookmark) return;
      log.add(std::string(to_string(e.type)) + " " +
              std::string(e.object.at("metadata").at("name").as_string()) + " " + e.resource_version);
    };
    return o;
  }

  std::unique_ptr<server::Server> server_;
  std::shared_ptr<lease::LeaseStore> store_;
  Client client_;
};

TEST_F(WatcherOnLeaseServer, AWatchFromVersion0DeliversEveryLeaseThoughTheyComeInNameOrder) {
  // Created c, b, a: name order is the reverse of version order.
  const std::string c = create("c"), b = create("b"), a = create("a");
  Log log;
  auto o = options(log);
  o.resource_version = "0";
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(log.wait_for(3)) << ::testing::PrintToString(log.all());
  const std::string d = create("d");
  ASSERT_TRUE(log.wait_for(4)) << ::testing::PrintToString(log.all());
  w.stop();
  EXPECT_EQ(log.all(), (std::vector<std::string>{"ADDED a " + a, "ADDED b " + b, "ADDED c " + c, "ADDED d " + d}));
  EXPECT_EQ(w.stats().duplicates_dropped, 0u);
}

TEST_F(WatcherOnLeaseServer, AWatchFromAVersionTheServerHasNotReachedListsAgainAndGoesOnFromTheList) {
  create("a");
  const std::string rv = create("b");
  Log log;
  auto o = options(log);
  o.resource_version = std::to_string(std::stoull(rv) + 1'000'000'000);  // versions here are microseconds
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(log.wait_for(1)) << "no list after the 504: " << w.stats().watches << " watches";
  const std::string c = create("c");
  ASSERT_TRUE(log.wait_for(2)) << ::testing::PrintToString(log.all());
  w.stop();
  EXPECT_EQ(log.all(), (std::vector<std::string>{"LIST " + rv + " 2", "ADDED c " + c}));
  EXPECT_EQ(w.stats().failures, 1u) << ::testing::PrintToString(log.all());
}

}  // namespace
