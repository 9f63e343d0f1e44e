// A persisted store's writes: acknowledged only once durable - the new
// file's data and the directory entry the rename changed both fsynced - and
// a write that cannot be made durable is answered 500 and not applied.
//
// fsync cannot honestly be made to fail on a test machine's filesystem, so
// these tests go through the seam every fsync of the store passes
// (set_sync_function_for_tests in lease_server/src/atomic_file.hpp, via sync_seam.hpp).
#include "lease/lease_api_fixture.hpp"

#include "lease/sync_seam.hpp"

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

class LeasePersistence : public LeaseFileTest {
 protected:
  // A create and an update that cannot be made durable: both 500, neither
  // applied - in the store, in its history, or in what a restarted store reads.
  void expect_writes_fail_and_roll_back(lease::detail::SyncTarget target) {
    const auto created = call("POST", coll, lease_body("lock", "a"));
    ASSERT_EQ(created.status, 201);
    const auto revision = store_->revision();
    {
      SyncSeam seam(failing_sync(target));
      const auto update = call("PUT", item, lease_body("lock", "b", rv_of(created)));
      expect_status(update, 500, "InternalError");
      EXPECT_NE(message_of(update).find("fsync"), std::string::npos) << message_of(update);
      expect_status(call("POST", coll, lease_body("other", "a")), 500, "InternalError");
    }
    EXPECT_EQ(call("GET", item).body, created.body);
    expect_status(call("GET", lease_path("default", "other")), 404, "NotFound");
    EXPECT_EQ(store_->revision(), revision);
    EXPECT_EQ(store_->holder_changes("default", "lock"), 1u) << describe_history(*store_);
    EXPECT_EQ(store_->writes("default", "lock"), 1u);
    // The next write goes through, based on the version that was kept.
    EXPECT_EQ(call("PUT", item, lease_body("lock", "c", rv_of(created))).status, 200);
  }
};

}  // namespace

TEST_F(LeasePersistence, AFailedFileFsyncFailsTheWriteWith500AndRollsItBack) {
  expect_writes_fail_and_roll_back(lease::detail::SyncTarget::file);
}

// Without the directory's fsync the rename may not survive a crash: the
// write was not made durable, so it is not acknowledged.
TEST_F(LeasePersistence, AFailedDirectoryFsyncFailsTheWriteWith500AndRollsItBack) {
  expect_writes_fail_and_roll_back(lease::detail::SyncTarget::directory);
}
