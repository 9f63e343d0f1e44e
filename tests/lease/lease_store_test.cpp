// The embedded Lease API over HTTP/2 + TLS: Kubernetes' object and Status
// shapes, resourceVersion concurrency, validation, authentication and the
// store's holder history, for a store in memory and one in a file; and
// persistence across a restart, a new store, and a SIGKILLed
// `rebound serve --leases-file` process.
#include "lease/lease_api_fixture.hpp"

#include "integration/child_server.hpp"
#include "integration/fixtures.hpp"  // open_fds()

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backings, LeaseApiTest, ::testing::Values(Backing::memory, Backing::file), backing_name);

TEST_P(LeaseApiTest, CreateAnswers201WithServerManagedMetadataOverHttp2) {
  const auto a = call("POST", coll, lease_body("lock", "a"));
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.protocol, "HTTP/2");
  EXPECT_EQ(a.body.at("apiVersion"), "coordination.k8s.io/v1");
  EXPECT_EQ(a.body.at("kind"), "Lease");
  const auto& meta = a.body.at("metadata");
  EXPECT_EQ(meta.at("name"), "lock");
  EXPECT_EQ(meta.at("namespace"), "default");
  EXPECT_EQ(meta.at("uid").as_string().size(), 36u);
  EXPECT_TRUE(parse_time(meta.at("creationTimestamp").as_string()));
  EXPECT_FALSE(rv_of(a).empty());
  const auto& spec = a.body.at("spec");
  EXPECT_EQ(spec.at("holderIdentity"), "a");
  // MicroTime: six fraction digits and Z.
  const std::string renew(spec.at("renewTime").as_string());
  EXPECT_EQ(renew.size(), std::string("2026-11-27T10:00:00.000000Z").size()) << renew;
}

TEST_P(LeaseApiTest, GetReturnsTheStoredObject) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  const auto got = call("GET", item);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, created.body);
}

TEST_P(LeaseApiTest, GetOfMissingLeaseIs404NotFoundStatus) {
  const auto a = call("GET", lease_path("default", "nope"));
  expect_status(a, 404, "NotFound");
  EXPECT_EQ(a.body.at("details").at("name"), "nope");
  EXPECT_EQ(a.body.at("details").at("kind"), "leases");
}

TEST_P(LeaseApiTest, CreateOfExistingLeaseIs409AlreadyExists) {
  call("POST", coll, lease_body("lock", "a"));
  expect_status(call("POST", coll, lease_body("lock", "b")), 409, "AlreadyExists");
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "a");
}

TEST_P(LeaseApiTest, UpdateWithCurrentVersionSucceedsAndMovesTheVersion) {
  const auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  const auto a = call("PUT", item, lease_body("lock", "b", rv));
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(rv_of(a), rv);
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "b");
}

TEST_P(LeaseApiTest, UpdateWithStaleVersionIs409ConflictAndChangesNothing) {
  const auto rv1 = rv_of(call("POST", coll, lease_body("lock", "a")));
  const auto rv2 = rv_of(call("PUT", item, lease_body("lock", "a", rv1)));
  const auto a = call("PUT", item, lease_body("lock", "b", rv1));
  expect_status(a, 409, "Conflict");
  EXPECT_NE(std::string(a.body.at("message").as_string()).find("the object has been modified"), std::string::npos);
  const auto now = store_->get("default", "lock");
  EXPECT_EQ(now->spec.holder_identity, "a");
  EXPECT_EQ(now->metadata.resource_version, rv2);
}

TEST_P(LeaseApiTest, UpdateThatChangesNothingKeepsTheVersion) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  const auto again = call("PUT", item, boost::json::serialize(created.body));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(rv_of(again), rv_of(created));
}

// Updates based on one version race in the store from two server threads
// at once. Each of eight clients has its own connection, so the server's
// two I/O threads share them; the first PUT's handler holds its thread until
// a PUT arrives on the other thread (at most 10 s), so two handlers are
// provably inside at the same time before either reaches the store.
TEST_P(LeaseApiTest, UpdatesFromOneVersionRacingOnTwoServerThreadsHaveExactlyOneWinner) {
  const auto rv = rv_of(call("POST", coll, lease_body("lock", "seed")));
  struct Rendezvous {
    std::mutex m;
    std::condition_variable cv;
    std::optional<std::thread::id> first;
    bool met = false;
  };
  auto rendezvous = std::make_shared<Rendezvous>();
  server_->route(std::string(lease_api_prefix) + "*", [store = store_, rendezvous](const server::ServerRequest& r) {
    if (r.method == "PUT") {
      std::unique_lock lock(rendezvous->m);
      if (!rendezvous->met) {
        if (!rendezvous->first) {
          rendezvous->first = std::this_thread::get_id();
          rendezvous->cv.wait_for(lock, 10s, [&] { return rendezvous->met; });
        } else if (*rendezvous->first != std::this_thread::get_id()) {
          rendezvous->met = true;
          rendezvous->cv.notify_all();
        }
      }
    }
    return store->handle(r);
  });
  constexpr int n = 8;
  std::atomic<int> ok{0}, conflict{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      Client own(trusting(*server_));
      Request r("PUT", server_->url() + item);
      r.body(lease_body("lock", "c" + std::to_string(i), rv)).header("content-type", "application/json");
      auto res = own.send(std::move(r));
      if (res && res->status() == 200) ++ok;
      if (res && res->status() == 409) ++conflict;
    });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(rendezvous->met) << "no two PUTs were handled at the same time";
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflict, n - 1);
  EXPECT_EQ(store_->holder_changes("default", "lock"), 2u);  // '' -> seed -> the winner
}

TEST_P(LeaseApiTest, MalformedOrContradictoryBodiesAre400) {
  expect_status(call("POST", coll, "{not json"), 400, "BadRequest");
  call("POST", coll, lease_body("lock", "a"));
  expect_status(call("PUT", item, lease_body("other", "a")), 400, "BadRequest");
  expect_status(call("POST", leases_path("ns2"), R"({"metadata":{"name":"x","namespace":"default"}})"), 400,
                "BadRequest");
  expect_status(call("POST", coll, R"({"kind":"ConfigMap","metadata":{"name":"x"}})"), 400, "BadRequest");
  expect_status(call("POST", coll, R"({"metadata":{"name":"x"},"spec":{"leaseDurationSeconds":"15"}})"), 400,
                "BadRequest");
}

TEST_P(LeaseApiTest, InvalidObjectsAre422) {
  expect_status(call("POST", coll, R"({"spec":{}})"), 422, "Invalid");
  expect_status(call("POST", coll, R"({"metadata":{"name":"Not_Valid"}})"), 422, "Invalid");
  expect_status(call("POST", coll, R"({"metadata":{"name":"x"},"spec":{"leaseDurationSeconds":0}})"), 422, "Invalid");
}

TEST_P(LeaseApiTest, DeleteRemovesAndSecondDeleteIs404) {
  call("POST", coll, lease_body("lock", "a"));
  const auto a = call("DELETE", item);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body.at("status"), "Success");
  expect_status(call("GET", item), 404, "NotFound");
  expect_status(call("DELETE", item), 404, "NotFound");
}

TEST_P(LeaseApiTest, ListShowsOnlyTheNamespacesLeases) {
  call("POST", coll, lease_body("b", "x"));
  call("POST", coll, lease_body("a", "x"));
  call("POST", leases_path("other"), lease_body("c", "x"));
  const auto a = call("GET", coll);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body.at("kind"), "LeaseList");
  const auto& items = a.body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("metadata").at("name"), "a");
  EXPECT_EQ(items[1].at("metadata").at("name"), "b");
}

TEST_P(LeaseApiTest, UnknownPathsAre404AndOtherMethods405) {
  expect_status(call("GET", "/apis/coordination.k8s.io/v1/namespaces/default/pods"), 404, "NotFound");
  expect_status(call("GET", item + "/extra"), 404, "NotFound");
  expect_status(call("PATCH", item, "{}"), 405, "MethodNotAllowed");
  expect_status(call("PUT", coll, "{}"), 405, "MethodNotAllowed");
}

TEST_P(LeaseApiTest, BearerTokenIsRequiredWhenConfigured) {
  auto options = store_options();
  options.bearer_token = "s3cret";
  start(options);
  expect_status(call("GET", coll), 401, "Unauthorized");
  expect_status(call("GET", coll, {}, "wrong"), 401, "Unauthorized");
  EXPECT_EQ(call("GET", coll, {}, "s3cret").status, 200);
}

TEST_P(LeaseApiTest, StoreCountsHolderChangesWithTheirTimes) {
  const auto before = std::chrono::system_clock::now();
  auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  rv = rv_of(call("PUT", item, lease_body("lock", "a", rv)));  // renewal: no change
  rv = rv_of(call("PUT", item, lease_body("lock", "", rv)));   // release
  rv = rv_of(call("PUT", item, lease_body("lock", "b", rv)));
  const auto h = store_->holder_history("default", "lock");
  ASSERT_EQ(h.size(), 3u) << describe_history(*store_);
  EXPECT_EQ(h[0].previous_holder, "");
  EXPECT_EQ(h[0].holder, "a");
  EXPECT_EQ(h[1].holder, "");
  EXPECT_TRUE(h[1].previous_holder_last_write.has_value());
  EXPECT_EQ(h[1].previous_lease_duration_seconds, 15);
  EXPECT_EQ(h[2].previous_holder, "");
  EXPECT_EQ(h[2].holder, "b");
  EXPECT_EQ(h[2].resource_version, rv);
  EXPECT_GE(h[0].at, before);
  EXPECT_LE(h[0].at, h[2].at);
  EXPECT_EQ(store_->holder_changes("default", "lock"), 3u);
  EXPECT_EQ(store_->writes("default", "lock"), 4u);
}

// Server::kill() stands in for a crash: the store installed on the server
// (in memory) is still there when it restarts.
TEST_P(LeaseApiTest, LeasesSurviveAnInProcessKillAndRestart) {
  const auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  server_->kill();
  server_->restart();
  const auto a = call("GET", item);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(rv_of(a), rv);
}

// A real crash: `rebound serve --leases-file` is SIGKILLed right after it
// acknowledged a write, and a new process on the same port and file must
// serve every acknowledged write (each one reached the file before its
// answer) and nothing twice: the file's own count of writes and holder
// changes is exactly what the client sent.
TEST(LeaseStoreProcess, LeasesSurviveASigkilledServerProcessThroughItsLeasesFile) {
  const std::size_t fds_before = rebound::testing::open_fds();
  {
    TempDir dir;
    const std::string file = dir.path + "/leases.json";
    const std::string cert = dir.path + "/cert.pem";
    server::write_self_signed_certificate(cert, dir.path + "/key.pem");
    rebound::testing::ChildServer child({"--tls", "--port", "0", "--cert", cert, "--key", dir.path + "/key.pem",
                                         "--leases-file", file});
    Options o;
    o.tls.ca_file = cert;
    Client client(o);
    const auto send = [&](std::string method, const std::string& path, std::string body = {}) {
      Request r(std::move(method), child.url() + path);
      if (!body.empty()) r.body(std::move(body)).header("content-type", "application/json");
      return client.send(std::move(r));
    };
    const std::string coll = leases_path("default");
    const std::string item = lease_path("default", "lock");
    const auto version = [](const Response& r) {
      return std::string(boost::json::parse(r.body()).at("metadata").at("resourceVersion").as_string());
    };

    auto created = send("POST", coll, lease_body("lock", "a"));
    ASSERT_TRUE(created) << created.error().message();
    ASSERT_EQ(created->status(), 201) << created->body();
    std::string rv = version(*created);
    for (const char* holder : {"a", "b", "b", "a"}) {
      auto updated = send("PUT", item, lease_body("lock", holder, rv));
      ASSERT_TRUE(updated) << updated.error().message();
      ASSERT_EQ(updated->status(), 200) << updated->body();
      rv = version(*updated);
    }
    child.restart_same_port();  // SIGKILL right after the last answer, then a new process

    auto got = send("GET", item);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->status(), 200);
    EXPECT_EQ(version(*got), rv) << "an acknowledged write was lost";
    EXPECT_EQ(boost::json::parse(got->body()).at("spec").at("holderIdentity"), "a");
    auto stale = send("PUT", item, lease_body("lock", "c", "1"));
    ASSERT_TRUE(stale) << stale.error().message();
    EXPECT_EQ(stale->status(), 409) << "a version from before the crash is stale after it too";
    child.kill();

    // The file, read by a store of our own: one create and four updates
    // applied once each, and the holder changes across both processes.
    const LeaseStore store(LeaseStoreOptions{.persist_path = file, .bearer_token = {}});
    EXPECT_EQ(store.writes("default", "lock"), 5u);
    const auto history = store.holder_history("default", "lock");
    ASSERT_EQ(history.size(), 3u) << describe_history(store);
    EXPECT_EQ(history[0].holder, "a");
    EXPECT_EQ(history[1].holder, "b");
    EXPECT_EQ(history[2].holder, "a");
  }
  EXPECT_EQ(rebound::testing::open_fds(), fds_before) << "file descriptors left behind";
}

TEST_F(LeaseFileTest, TheHolderHistoryIsPersistedWithTheLeases) {
  auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  rv = rv_of(call("PUT", item, lease_body("lock", "a", rv)));  // a renewal: a write, not a change
  rv = rv_of(call("PUT", item, lease_body("lock", "b", rv)));
  const auto before = store_->holder_history("default", "lock");
  ASSERT_EQ(before.size(), 2u);
  stop();

  restart();
  auto after = store_->holder_history("default", "lock");
  ASSERT_EQ(after.size(), 2u) << describe_history(*store_);
  for (std::size_t i = 0; i < after.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(after[i].previous_holder, before[i].previous_holder);
    EXPECT_EQ(after[i].holder, before[i].holder);
    EXPECT_EQ(after[i].resource_version, before[i].resource_version);
    // Kept to the microsecond.
    EXPECT_EQ(std::chrono::time_point_cast<std::chrono::microseconds>(after[i].at),
              std::chrono::time_point_cast<std::chrono::microseconds>(before[i].at));
    EXPECT_EQ(after[i].previous_holder_last_write.has_value(), before[i].previous_holder_last_write.has_value());
    EXPECT_EQ(after[i].previous_lease_duration_seconds, before[i].previous_lease_duration_seconds);
  }
  EXPECT_EQ(store_->writes("default", "lock"), 3u);
  // The history goes on where it stopped, the holder's last write included:
  // c taking over from b is measured from b's write before the restart.
  call("PUT", item, lease_body("lock", "c", rv));
  after = store_->holder_history("default", "lock");
  ASSERT_EQ(after.size(), 3u) << describe_history(*store_);
  EXPECT_EQ(after[2].previous_holder, "b");
  ASSERT_TRUE(after[2].previous_holder_last_write.has_value());
  EXPECT_EQ(std::chrono::time_point_cast<std::chrono::microseconds>(*after[2].previous_holder_last_write),
            std::chrono::time_point_cast<std::chrono::microseconds>(before[1].at));
}

TEST_F(LeaseFileTest, PersistedLeasesAreLoadedByANewStoreOnANewServer) {
  auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  rv = rv_of(call("PUT", item, lease_body("lock", "b", rv)));
  const auto before = call("GET", item);
  // Nothing of the first server or store survives but the file.
  stop();
  ASSERT_TRUE(std::filesystem::exists(file));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().filename(), "leases.json") << "temp file left behind";

  restart();
  const auto after = call("GET", item);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, before.body);
  // Stale versions stay stale, and new versions keep counting up.
  expect_status(call("PUT", item, lease_body("lock", "c", "1")), 409, "Conflict");
  const auto next = call("PUT", item, lease_body("lock", "c", rv));
  EXPECT_EQ(next.status, 200);
  EXPECT_GT(std::stoull(rv_of(next)), std::stoull(rv));
}

TEST_F(LeaseFileTest, ACorruptPersistFileIsRefusedNamingTheFile) {
  stop();
  std::ofstream(file) << "{\"revision\": 3, \"leases\": [ {\"metadata\": ";
  try {
    LeaseStore store(store_options());
    ADD_FAILURE() << "a corrupt file was loaded";
  } catch (const LeaseFileCorrupt& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
  // Refusing left the file as it was, and free for the next try.
  EXPECT_EQ(files_in(dir.path), std::vector<std::string>{"leases.json"});
}

TEST_F(LeaseFileTest, MovedAsideACorruptFileIsKeptAndTheStoreStartsWithNoLeases) {
  stop();
  const std::string corrupt = R"({"revision": 3, "leases": "not a list"})";
  std::ofstream(file) << corrupt;
  auto options = store_options();
  options.move_aside_corrupt_file = true;
  start(options);
  const std::string aside = store_->corrupt_file_moved_to();
  EXPECT_TRUE(aside.starts_with(file + ".corrupt-")) << aside;
  std::ifstream in(aside);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), corrupt);
  EXPECT_EQ(call("GET", coll).body.at("items").as_array().size(), 0u);
  EXPECT_EQ(call("POST", coll, lease_body("lock", "a")).status, 201);
  // The new file loads; moving aside applies only to a corrupt one.
  restart();
  EXPECT_EQ(store_->corrupt_file_moved_to(), "");
  EXPECT_EQ(call("GET", item).status, 200);
}

TEST_F(LeaseFileTest, AHandWrittenPersistFileGetsServerManagedFieldsAndCanBeUpdated) {
  stop();
  std::ofstream(file) << R"({"leases": [{"metadata": {"name": "lock", "namespace": "default"},
                                         "spec": {"holderIdentity": "a"}}]})";
  restart();
  const auto got = call("GET", item);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body.at("kind"), "Lease");
  EXPECT_EQ(got.body.at("metadata").at("uid").as_string().size(), 36u);
  const auto next = call("PUT", item, lease_body("lock", "b", rv_of(got)));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "b");
}
