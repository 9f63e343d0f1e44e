// resourceVersions: every write gets a higher one than any write before it,
// and a restarted store - a new one in memory, or one reloading its file -
// never hands out a version it handed out before, so a write based on an
// object read before the restart cannot pass the check against another
// object after it. For a store in memory and for one in a file.
#include "lease/lease_api_fixture.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

class LeaseRevisions : public LeaseApiTest {};

std::uint64_t number(const std::string& rv) { return std::stoull(rv); }

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backings, LeaseRevisions, ::testing::Values(Backing::memory, Backing::file), backing_name);

TEST_P(LeaseRevisions, EveryWriteGetsAHigherVersion) {
  auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  EXPECT_EQ(store_->revision(), number(rv));
  for (const char* holder : {"a", "b", "", "c"}) {
    const auto next = rv_of(call("PUT", item, lease_body("lock", holder, rv)));
    EXPECT_GT(number(next), number(rv));
    rv = next;
  }
  const auto other = rv_of(call("POST", coll, lease_body("other", "x")));
  EXPECT_GT(number(other), number(rv));
  EXPECT_EQ(store_->revision(), number(other));
}

TEST_P(LeaseRevisions, VersionsAfterARestartAreAboveEveryVersionBeforeIt) {
  auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  rv = rv_of(call("PUT", item, lease_body("lock", "a", rv)));
  const auto last_before = number(rv);
  restart();
  const auto created = call("POST", coll, lease_body("other", "b"));
  ASSERT_EQ(created.status, 201);
  EXPECT_GT(number(rv_of(created)), last_before);
  EXPECT_GT(store_->revision(), last_before);
}

// The hazard itself: a writer that read "lock" before the restart (and sends
// no uid) must meet 409 after it, whatever was written in between.
TEST_P(LeaseRevisions, AVersionReadBeforeARestartIsStaleAfterIt) {
  auto before = rv_of(call("POST", coll, lease_body("lock", "a")));
  before = rv_of(call("PUT", item, lease_body("lock", "a", before)));
  restart();
  // In memory the lease is gone and b creates it; in a file it is still there.
  auto now = call("GET", item);
  std::string rv = now.status == 200 ? rv_of(now) : rv_of(call("POST", coll, lease_body("lock", "b")));
  rv = rv_of(call("PUT", item, lease_body("lock", "b", rv)));  // b renews once
  EXPECT_NE(rv, before) << "a version handed out again";
  expect_status(call("PUT", item, lease_body("lock", "a", before)), 409, "Conflict");
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "b");
}
