// The MicroTime fields of a write (spec.acquireTime, spec.renewTime): kube-
// apiserver decodes them as RFC3339Micro, "2006-01-02T15:04:05.000000Z07:00",
// so anything but exactly six fraction digits fails the decoding (400
// BadRequest), and it stores them in UTC with "Z" and six digits. For a
// store in memory and for one in a file.
#include "lease/lease_api_fixture.hpp"

#include "write_times.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

class LeaseWriteTimes : public LeaseApiTest {};

// A lease named "lock" whose spec.`field` is `text`, with version `rv`.
std::string with_time(const char* field, const std::string& text, const std::string& rv = {}) {
  auto doc = boost::json::parse(lease_body("lock", "a", rv));
  doc.at("spec").as_object()[field] = text;
  return boost::json::serialize(doc);
}

// Each breaks RFC3339Micro in one way.
const char* const malformed[] = {
    "2026-01-27T10:00:00Z",             // no fraction
    "2026-01-27T10:00:00.123Z",         // three digits
    "2026-01-27T10:00:00.123456789Z",   // nine digits
    "2026-01-27t10:00:00.123456z",      // lower-case T and Z
    "2026-01-27T10:00:60.000000Z",      // a leap second
    "2026-01-27T10:00:00.123456",       // no zone
    "2026-01-27T10:00:00.123456+0200",  // offset without a colon
    "",
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backings, LeaseWriteTimes, ::testing::Values(Backing::memory, Backing::file), backing_name);

TEST_P(LeaseWriteTimes, ATimeWithoutExactlySixFractionDigitsIs400BadRequestOnCreate) {
  for (const char* field : {"acquireTime", "renewTime"})
    for (const char* text : malformed) {
      SCOPED_TRACE(std::string(field) + " = \"" + text + "\"");
      const auto a = call("POST", coll, with_time(field, text));
      expect_status(a, 400, "BadRequest");
      EXPECT_NE(message_of(a).find(field), std::string::npos) << message_of(a);
    }
  expect_status(call("GET", item), 404, "NotFound");
}

TEST_P(LeaseWriteTimes, ATimeWithoutExactlySixFractionDigitsIs400BadRequestOnUpdate) {
  const auto rv = rv_of(call("POST", coll, lease_body("lock", "a")));
  for (const char* field : {"acquireTime", "renewTime"})
    for (const char* text : malformed) {
      SCOPED_TRACE(std::string(field) + " = \"" + text + "\"");
      expect_status(call("PUT", item, with_time(field, text, rv)), 400, "BadRequest");
    }
  EXPECT_EQ(store_->get("default", "lock")->metadata.resource_version, rv) << "a bad write changed the lease";
}

TEST_P(LeaseWriteTimes, TimesAreStoredInUtcWithSixDigits) {
  const auto a = call("POST", coll, with_time("renewTime", "2026-01-27T12:00:00.123456+02:00"));
  ASSERT_EQ(a.status, 201) << boost::json::serialize(a.body);
  EXPECT_EQ(a.body.at("spec").at("renewTime"), "2026-01-27T10:00:00.123456Z");
  EXPECT_EQ(call("GET", item).body.at("spec").at("renewTime"), "2026-01-27T10:00:00.123456Z");
  const auto b = call("PUT", item, with_time("acquireTime", "2026-01-27T09:30:00.000001-00:30", rv_of(a)));
  ASSERT_EQ(b.status, 200) << boost::json::serialize(b.body);
  EXPECT_EQ(b.body.at("spec").at("acquireTime"), "2026-01-27T10:00:00.000001Z");
}

// The same instant written with another offset is the same object.
TEST_P(LeaseWriteTimes, AnUpdateThatOnlyRewritesATimesOffsetKeepsTheVersion) {
  const auto a = call("POST", coll, with_time("renewTime", "2026-01-27T10:00:00.500000Z"));
  ASSERT_EQ(a.status, 201);
  auto same = a.body;
  same.at("spec").as_object()["renewTime"] = "2026-01-27T11:00:00.500000+01:00";
  const auto b = call("PUT", item, boost::json::serialize(same));
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(rv_of(b), rv_of(a));
}

TEST(StrictMicroTime, AcceptsRfc3339MicroOnly) {
  using lease::detail::parse_micro_time_strict;
  EXPECT_EQ(parse_micro_time_strict("2026-01-27T10:00:00.123456Z"), parse_time("2026-01-27T10:00:00.123456Z"));
  EXPECT_EQ(parse_micro_time_strict("2026-01-27T10:00:00.000000-05:00"), parse_time("2026-01-27T15:00:00Z"));
  for (const char* text : malformed) EXPECT_FALSE(parse_micro_time_strict(text)) << text;
  EXPECT_FALSE(parse_micro_time_strict("2026-02-30T10:00:00.000000Z")) << "no such day";
  EXPECT_FALSE(parse_micro_time_strict("2026-01-27T24:00:00.000000Z"));
  EXPECT_FALSE(parse_micro_time_strict("2026-01-27T10:00:00.000000Z "));
  // The lenient reader the client uses still reads what it read before.
  EXPECT_TRUE(parse_time("2026-01-27T10:00:00Z"));
  EXPECT_TRUE(parse_time("2026-01-27T10:00:00.123456789Z"));
}
