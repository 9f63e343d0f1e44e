// A Lease store that forgets its leases (memory only, or a corrupt file
// moved aside) with max_lease_duration (`rebound serve --max-lease-duration`,
// 15 s by default there): leases longer than the maximum are refused, and
// writes are held - 503 with Retry-After, reads still served - for that
// long after the store starts, so that every lease it may have forgotten
// has expired before anyone can take one over. A store that loaded its
// file forgot nothing and holds nothing.
#include "lease/lease_api_fixture.hpp"

#include <rebound/lease_server/lease_store.hpp>

#include <gtest/gtest.h>

#include <thread>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;
using namespace std::chrono_literals;

namespace {

server::ServerResponse forgetful_call(LeaseStore& store, std::string method, std::string path, std::string body = {}) {
  server::ServerRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.body = std::move(body);
  return store.handle(r);
}

std::string lease_lasting(int duration_seconds) {
  return R"({"metadata":{"name":"lock"},"spec":{"holderIdentity":"a","leaseDurationSeconds":)" +
         std::to_string(duration_seconds) + "}}";
}

std::string response_header(const server::ServerResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

LeaseStoreOptions forgetful_options(std::chrono::seconds max) {
  LeaseStoreOptions o;
  o.max_lease_duration = max;
  return o;
}

}  // namespace

TEST(ForgetfulLeaseStore, WritesAreHeldForTheLongestLeaseAfterAStartWithoutLeasesWhileReadsAreServed) {
  LeaseStore store(forgetful_options(2s));
  const auto started = std::chrono::steady_clock::now();
  const auto held = forgetful_call(store, "POST", leases_path("default"), lease_lasting(2));
  EXPECT_EQ(held.status, 503) << held.body;
  EXPECT_EQ(response_header(held, "retry-after"), "2");
  EXPECT_NE(held.body.find("ServiceUnavailable"), std::string::npos) << held.body;
  EXPECT_EQ(forgetful_call(store, "PUT", lease_path("default", "lock"), lease_lasting(2)).status, 503);
  EXPECT_EQ(forgetful_call(store, "DELETE", lease_path("default", "lock")).status, 503);
  EXPECT_EQ(forgetful_call(store, "GET", lease_path("default", "lock")).status, 404);
  EXPECT_EQ(forgetful_call(store, "GET", leases_path("default")).status, 200);

  while (std::chrono::steady_clock::now() < started + 2s) std::this_thread::sleep_for(20ms);
  const auto created = forgetful_call(store, "POST", leases_path("default"), lease_lasting(2));
  EXPECT_EQ(created.status, 201) << created.body;
}

TEST(ForgetfulLeaseStore, ALeaseLongerThanTheMaximumIsRefusedAsInvalid) {
  TempDir dir;
  LeaseStoreOptions o = forgetful_options(2s);
  o.persist_path = dir.path + "/leases.json";  // nothing forgotten: no hold, only the limit
  LeaseStore store(o);
  const auto refused = forgetful_call(store, "POST", leases_path("default"), lease_lasting(3));
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("spec.leaseDurationSeconds: must be at most 2"), std::string::npos) << refused.body;
  EXPECT_EQ(forgetful_call(store, "POST", leases_path("default"), lease_lasting(2)).status, 201);
}

TEST(ForgetfulLeaseStore, AStoreThatLoadedItsFileHoldsNothing) {
  TempDir dir;
  LeaseStoreOptions o = forgetful_options(30s);
  o.persist_path = dir.path + "/leases.json";
  {
    LeaseStore first(o);
    ASSERT_EQ(forgetful_call(first, "POST", leases_path("default"), lease_lasting(2)).status, 201);
  }
  LeaseStore again(o);  // a restart that kept its leases
  auto object = boost::json::parse(forgetful_call(again, "GET", lease_path("default", "lock")).body).as_object();
  object["spec"].as_object()["holderIdentity"] = "b";
  EXPECT_EQ(forgetful_call(again, "PUT", lease_path("default", "lock"), boost::json::serialize(object)).status, 200);
}

TEST(ForgetfulLeaseStore, WithoutAMaximumNothingIsHeldOrRefused) {
  LeaseStore store;
  EXPECT_EQ(forgetful_call(store, "POST", leases_path("default"), lease_lasting(3600)).status, 201);
}
