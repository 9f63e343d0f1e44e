// One store per persist file: a second store - in this process or another -
// on a file a store holds refuses to start, saying which file and who holds
// it, since two stores on one file would hand out the same versions and
// overwrite each other's writes. The hold ends with the store (or its
// process, however it dies).
#include "lease/lease_api_fixture.hpp"

#include "lease/run_rebound.hpp"

#include "integration/child_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

class LeaseFileLock : public LeaseFileTest {};

// What constructing a second store on `options` threw ("" if it did not).
std::string second_store_error(const LeaseStoreOptions& options) {
  try {
    LeaseStore second(options);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_F(LeaseFileLock, ASecondStoreOnTheSameFileRefusesToStartNamingTheFileAndTheHolder) {
  ASSERT_EQ(call("POST", coll, lease_body("lock", "a")).status, 201);
  const auto error = second_store_error(store_options());
  ASSERT_FALSE(error.empty()) << "a second store started on a file another store holds";
  EXPECT_NE(error.find(file), std::string::npos) << error;
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  EXPECT_NE(error.find("pid " + std::to_string(::getpid())), std::string::npos) << error;
  // The first store goes on as before.
  EXPECT_EQ(call("GET", item).status, 200);
}

TEST_F(LeaseFileLock, TheFileIsFreeOnceItsStoreIsGoneAndNoLockFileStays) {
  ASSERT_EQ(call("POST", coll, lease_body("lock", "a")).status, 201);
  stop();
  for (const auto& entry : std::filesystem::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().filename(), "leases.json") << "left behind";
  EXPECT_EQ(second_store_error(store_options()), "");
  restart();
  EXPECT_EQ(call("GET", item).status, 200);
}

// The lock needs the file's directory; a store that could never write its
// file says so when it starts, not at its first write.
TEST_F(LeaseFileLock, AStoreWhoseDirectoryDoesNotExistRefusesToStart) {
  LeaseStoreOptions options;
  options.persist_path = dir.path + "/no-such-dir/leases.json";
  const auto error = second_store_error(options);
  EXPECT_NE(error.find(options.persist_path), std::string::npos) << error;
}

TEST(LeaseFileLockProcess, ASecondServeOnTheSameLeasesFileRefusesToStartAndAKilledHoldersFileIsFree) {
  TempDir dir;
  const std::string file = dir.path + "/leases.json";
  rebound::testing::ChildServer first({"--port", "0", "--leases-file", file});
  const auto second = run_rebound("serve --port 0 --leases-file " + file);
  EXPECT_EQ(second.exit_code, 1) << second.out;
  EXPECT_NE(second.out.find(file), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("in use"), std::string::npos) << second.out;
  // SIGKILLed, the holder leaves its lock file behind, but not its lock.
  first.restart_same_port();
  EXPECT_FALSE(first.url().empty());
}
