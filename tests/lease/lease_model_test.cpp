// The Lease model: Kubernetes' time formats and the JSON mapping, including
// that fields the model does not know survive an edit.
#include <rebound/lease/lease.hpp>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

using namespace rebound::lease;
using namespace std::chrono;

namespace {

MicroTime at(int y, unsigned mo, unsigned d, int h, int mi, int s, long us = 0) {
  return MicroTime(sys_days(year(y) / mo / d)) + hours(h) + minutes(mi) + seconds(s) + microseconds(us);
}

}  // namespace

TEST(LeaseTime, MicroTimeHasSixFractionDigitsAndZ) {
  EXPECT_EQ(format_micro_time(at(2026, 11, 27, 10, 0, 0)), "2026-11-27T10:00:00.000000Z");
  EXPECT_EQ(format_micro_time(at(2026, 1, 2, 3, 4, 5, 60)), "2026-01-02T03:04:05.000060Z");
}

TEST(LeaseTime, CreationTimestampHasWholeSeconds) {
  EXPECT_EQ(format_time(at(2026, 11, 27, 10, 0, 7, 999999)), "2026-11-27T10:00:07Z");
}

TEST(LeaseTime, ParsesWhatItFormats) {
  const auto t = at(2031, 7, 9, 23, 59, 58, 123456);
  EXPECT_EQ(parse_time(format_micro_time(t)), t);
}

TEST(LeaseTime, ParsesSecondPrecisionAndOffsetsAndLongFractions) {
  EXPECT_EQ(parse_time("2026-11-27T10:00:00Z"), at(2026, 11, 27, 10, 0, 0));
  EXPECT_EQ(parse_time("2026-11-27T12:30:00+02:30"), at(2026, 11, 27, 10, 0, 0));
  EXPECT_EQ(parse_time("2026-11-27T10:00:00.5Z"), at(2026, 11, 27, 10, 0, 0, 500000));
  // Nanoseconds (Go's RFC3339Nano) are truncated to microseconds.
  EXPECT_EQ(parse_time("2026-11-27T10:00:00.123456789Z"), at(2026, 11, 27, 10, 0, 0, 123456));
}

TEST(LeaseTime, RejectsMalformedTimes) {
  for (const char* bad : {"", "2026-11-27", "2026-11-27T10:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-27T24:00:00Z", "2026-11-27T10:00:00.Z", "2026-11-27T10:00:00Zjunk",
                          "2026-11-27 10:00:00Z"})
    EXPECT_FALSE(parse_time(bad).has_value()) << bad;
}

TEST(LeaseJson, ReadsTheFieldsLeaderElectionUses) {
  const auto v = boost::json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "lock", "namespace": "kube-system", "resourceVersion": "42",
                 "uid": "u-1", "creationTimestamp": "2026-11-27T10:00:00Z"},
    "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15,
             "acquireTime": "2026-11-27T10:00:00.000000Z", "renewTime": "2026-11-27T10:00:02.000000Z",
             "leaseTransitions": 3}})");
  const auto lease = lease_from_json(v);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->metadata.name, "lock");
  EXPECT_EQ(lease->metadata.namespace_, "kube-system");
  EXPECT_EQ(lease->metadata.resource_version, "42");
  EXPECT_EQ(lease->spec.holder_identity, "a");
  EXPECT_EQ(lease->spec.lease_duration_seconds, 15);
  EXPECT_EQ(lease->spec.acquire_time, at(2026, 11, 27, 10, 0, 0));
  EXPECT_EQ(lease->spec.renew_time, at(2026, 11, 27, 10, 0, 2));
  EXPECT_EQ(lease->spec.lease_transitions, 3);
}

TEST(LeaseJson, AbsentAndNullFieldsReadAsUnset) {
  const auto lease = lease_from_json(boost::json::parse(R"({"metadata":{"name":"x"},"spec":{"holderIdentity":null}})"));
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->spec.holder_identity, "");
  EXPECT_FALSE(lease->spec.lease_duration_seconds);
  EXPECT_FALSE(lease->spec.renew_time);
  EXPECT_EQ(lease->spec.lease_transitions, 0);
}

TEST(LeaseJson, WrongTypesAreRejectedWithAReason) {
  std::string why;
  EXPECT_FALSE(lease_from_json(boost::json::parse(R"({"spec":{"leaseDurationSeconds":"15"}})"), &why));
  EXPECT_NE(why.find("leaseDurationSeconds"), std::string::npos) << why;
  EXPECT_FALSE(lease_from_json(boost::json::parse(R"({"spec":{"renewTime":"yesterday"}})"), &why));
  EXPECT_NE(why.find("renewTime"), std::string::npos) << why;
  EXPECT_FALSE(lease_from_json(boost::json::parse(R"([1,2])"), &why));
}

TEST(LeaseJson, WriteSpecKeepsFieldsItDoesNotKnow) {
  auto v = boost::json::parse(R"({
    "metadata": {"name": "lock", "labels": {"app": "x"}, "resourceVersion": "7"},
    "spec": {"holderIdentity": "a", "strategy": "OldestEmulationVersion", "leaseTransitions": 1}})");
  LeaseSpec spec;
  spec.holder_identity = "b";
  spec.lease_duration_seconds = 2;
  spec.renew_time = at(2026, 11, 27, 10, 0, 0);
  spec.lease_transitions = 2;
  write_spec(v.get_object(), spec);
  const auto& o = v.get_object();
  EXPECT_EQ(o.at("metadata").at("labels").at("app"), "x");
  EXPECT_EQ(o.at("metadata").at("resourceVersion"), "7");
  EXPECT_EQ(o.at("spec").at("strategy"), "OldestEmulationVersion");
  EXPECT_EQ(o.at("spec").at("holderIdentity"), "b");
  EXPECT_EQ(o.at("spec").at("renewTime"), "2026-11-27T10:00:00.000000Z");
  EXPECT_FALSE(o.at("spec").as_object().contains("acquireTime"));
  EXPECT_EQ(lease_from_json(v)->spec, spec);
}

TEST(LeaseJson, ToJsonRoundTrips) {
  Lease lease;
  lease.metadata.name = "lock";
  lease.metadata.namespace_ = "default";
  lease.spec.holder_identity = "a";
  lease.spec.lease_duration_seconds = 15;
  lease.spec.acquire_time = at(2026, 11, 27, 10, 0, 0, 1);
  const auto o = to_json(lease);
  EXPECT_EQ(o.at("apiVersion"), "coordination.k8s.io/v1");
  EXPECT_EQ(o.at("kind"), "Lease");
  const auto back = lease_from_json(o);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->metadata.name, "lock");
  EXPECT_EQ(back->spec, lease.spec);
}

TEST(LeasePaths, FollowTheKubernetesLayout) {
  EXPECT_EQ(leases_path("ns1"), "/apis/coordination.k8s.io/v1/namespaces/ns1/leases");
  EXPECT_EQ(lease_path("ns1", "l"), "/apis/coordination.k8s.io/v1/namespaces/ns1/leases/l");
}
