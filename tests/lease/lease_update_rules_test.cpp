// What a PUT of a lease may do, as kube-apiserver decides it for
// coordination.k8s.io Leases (AllowCreateOnUpdate true, AllowUnconditionalUpdate
// false, a uid in the body is a precondition): an update must name the version
// it was based on, a PUT to a missing lease creates it unless it names a uid,
// and the uid of a stored lease cannot be changed. Each rule, for a store in
// memory and for one in a file.
#include "lease/lease_api_fixture.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

// `body` with metadata.uid set to `uid`.
std::string with_uid(const std::string& body, const std::string& uid) {
  auto doc = boost::json::parse(body);
  doc.at("metadata").as_object()["uid"] = uid;
  return boost::json::serialize(doc);
}

class LeasePutRules : public LeaseApiTest {};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backings, LeasePutRules, ::testing::Values(Backing::memory, Backing::file), backing_name);

// A write that does not say which version it replaces could overwrite a
// leader's renewal it never saw: leases do not allow unconditional updates.
TEST_P(LeasePutRules, PutWithoutResourceVersionOfAnExistingLeaseIs422InvalidAndChangesNothing) {
  const auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  const auto a = call("PUT", item, lease_body("lock", "b"));
  expect_status(a, 422, "Invalid");
  EXPECT_NE(message_of(a).find("metadata.resourceVersion"), std::string::npos) << message_of(a);
  EXPECT_NE(message_of(a).find("must be specified for an update"), std::string::npos) << message_of(a);
  EXPECT_EQ(a.body.at("details").at("name"), "lock");
  const auto& cause = a.body.at("details").at("causes").at(0);
  EXPECT_EQ(cause.at("field"), "metadata.resourceVersion");
  EXPECT_EQ(cause.at("reason"), "FieldValueInvalid");
  const auto now = store_->get("default", "lock");
  EXPECT_EQ(now->spec.holder_identity, "a");
  EXPECT_EQ(now->metadata.resource_version, rv);
}

// Leases allow create-on-update: with nothing stored there is no version to
// be based on, so the PUT creates the lease, server-managed fields and all.
TEST_P(LeasePutRules, PutToAMissingLeaseCreatesItWith201) {
  const auto a = call("PUT", item, lease_body("lock", "a"));
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.body.at("kind"), "Lease");
  EXPECT_EQ(a.body.at("metadata").at("namespace"), "default");
  EXPECT_EQ(a.body.at("metadata").at("uid").as_string().size(), 36u);
  EXPECT_FALSE(rv_of(a).empty());
  EXPECT_EQ(call("GET", item).body, a.body);
  const auto h = store_->holder_history("default", "lock");
  ASSERT_EQ(h.size(), 1u) << describe_history(*store_);
  EXPECT_EQ(h[0].previous_holder, "");
  EXPECT_EQ(h[0].holder, "a");
}

// kube-apiserver checks the body's resourceVersion only against a stored
// object; with none stored the create path runs whatever version it names.
TEST_P(LeasePutRules, PutWithAResourceVersionToAMissingLeaseCreatesItToo) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  ASSERT_EQ(call("DELETE", item).status, 200);
  const auto a = call("PUT", item, lease_body("lock", "b", rv_of(created)));
  EXPECT_EQ(a.status, 201);
  EXPECT_NE(rv_of(a), rv_of(created));
  EXPECT_NE(a.body.at("metadata").at("uid"), created.body.at("metadata").at("uid")) << "a new object";
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "b");
}

// A leader renews by writing back the object it read, uid included: once
// the lease is deleted that uid is a precondition nothing meets, so the
// renewal fails instead of bringing the deleted lease back.
TEST_P(LeasePutRules, PutCarryingAUidToAMissingLeaseIs409ConflictAndCreatesNothing) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  ASSERT_EQ(call("DELETE", item).status, 200);
  auto renewal = created.body;
  const auto a = call("PUT", item, boost::json::serialize(renewal));
  expect_status(a, 409, "Conflict");
  EXPECT_NE(message_of(a).find("Precondition failed: UID in precondition"), std::string::npos) << message_of(a);
  expect_status(call("GET", item), 404, "NotFound");
}

// metadata.uid names the object: a write that names another one is refused
// as kube-apiserver refuses a failed uid precondition (409, checked before
// the resourceVersion).
TEST_P(LeasePutRules, PutThatChangesTheUidIs409ConflictAndChangesNothing) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  const std::string uid(created.body.at("metadata").at("uid").as_string());
  const auto a = call("PUT", item, with_uid(lease_body("lock", "b", rv_of(created)), "11111111-2222-4333-8444-555555555555"));
  expect_status(a, 409, "Conflict");
  EXPECT_NE(message_of(a).find("11111111-2222-4333-8444-555555555555"), std::string::npos) << message_of(a);
  EXPECT_NE(message_of(a).find(uid), std::string::npos) << message_of(a);
  const auto now = store_->get("default", "lock");
  EXPECT_EQ(now->spec.holder_identity, "a");
  EXPECT_EQ(now->metadata.uid, uid);
  EXPECT_EQ(now->metadata.resource_version, rv_of(created));
}

TEST_P(LeasePutRules, PutWithTheStoredUidOrNoneKeepsTheUid) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  const std::string uid(created.body.at("metadata").at("uid").as_string());
  const auto same = call("PUT", item, with_uid(lease_body("lock", "b", rv_of(created)), uid));
  ASSERT_EQ(same.status, 200);
  const auto none = call("PUT", item, lease_body("lock", "c", rv_of(same)));
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.body.at("metadata").at("uid").as_string(), uid);
}
