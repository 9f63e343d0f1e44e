// `rebound serve --leases-file F` with a corrupt F: it refuses to start with
// an error that names F, says what is wrong and offers the way out; with
// --leases-reset it moves F aside to F.corrupt-<time> (kept, not deleted) and
// starts with no leases. A file that loads is used as it is, reset or not.
#include "lease/lease_api_fixture.hpp"
#include "lease/run_rebound.hpp"

#include "integration/child_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

const std::string truncated = "{\"revision\": 3, \"leases\": [ {\"metadata\": ";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The files of `dir` whose names start with `prefix`.
std::vector<std::string> files_starting(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path().string());
  return out;
}

// The leases `rebound serve` at `url` lists in namespace default.
std::size_t listed(const std::string& url) {
  Client client;
  auto res = client.send(Request::get(url + leases_path("default")));
  if (!res || res->status() != 200) return 999;
  return boost::json::parse(res->body()).at("items").as_array().size();
}

}  // namespace

TEST(LeaseServeReset, ServeRefusesACorruptLeasesFileNamingItAndTheWayOut) {
  TempDir dir;
  const std::string file = dir.path + "/leases.json";
  std::ofstream(file) << truncated;
  const auto r = run_rebound("serve --port 0 --leases-file " + file);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(file), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("corrupt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--leases-reset"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("terminate called"), std::string::npos) << r.out;
  EXPECT_EQ(read(file), truncated) << "the file was changed";
}

// The leases the corrupt file held are forgotten: writes wait the longest
// lease out (--max-lease-duration) before anyone may take one over.
TEST(LeaseServeReset, LeasesResetMovesACorruptFileAsideAndStartsWithNoLeasesHoldingWritesAtFirst) {
  TempDir dir;
  const std::string file = dir.path + "/leases.json";
  std::ofstream(file) << truncated;
  {
    rebound::testing::ChildServer server(
        {"--port", "0", "--leases-file", file, "--leases-reset", "--max-lease-duration", "3s"});
    EXPECT_EQ(listed(server.url()), 0u);
    const auto aside = files_starting(dir.path, "leases.json.corrupt-");
    ASSERT_EQ(aside.size(), 1u);
    EXPECT_EQ(read(aside[0]), truncated) << "the corrupt file was not kept as it was";
    Options no_retries;
    no_retries.max_attempts = 1;
    Client client(no_retries);
    auto post = [&] {
      return client.send(Request::post(server.url() + leases_path("default"),
                                       R"({"metadata":{"name":"lock"},"spec":{"holderIdentity":"a","leaseDurationSeconds":3}})",
                                       "application/json"));
    };
    auto held = post();
    ASSERT_TRUE(held);
    EXPECT_EQ(held->status(), 503) << held->body();
    EXPECT_TRUE(held->headers().contains("retry-after"));
    auto created = post();
    for (int i = 0; i < 100 && created && created->status() == 503; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      created = post();
    }
    ASSERT_TRUE(created);
    EXPECT_EQ(created->status(), 201) << created->body();
  }
  // The new file is a store again.
  const LeaseStore store(LeaseStoreOptions{.persist_path = file, .bearer_token = {}});
  EXPECT_EQ(store.get("default", "lock")->spec.holder_identity, "a");
}

TEST(LeaseServeReset, LeasesResetKeepsAFileThatLoads) {
  TempDir dir;
  const std::string file = dir.path + "/leases.json";
  {
    LeaseStore store(LeaseStoreOptions{.persist_path = file, .bearer_token = {}});
    server::ServerRequest r;
    r.method = "POST";
    r.path = r.target = leases_path("default");
    r.body = lease_body("lock", "a");
    ASSERT_EQ(store.handle(r).status, 201);
  }
  rebound::testing::ChildServer server({"--port", "0", "--leases-file", file, "--leases-reset"});
  EXPECT_EQ(listed(server.url()), 1u);
  EXPECT_TRUE(files_starting(dir.path, "leases.json.corrupt-").empty());
}

TEST(LeaseServeReset, LeasesResetNeedsALeasesFile) {
  const auto r = run_rebound("serve --port 0 --leases-reset");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("--leases-file"), std::string::npos) << r.out;
}
