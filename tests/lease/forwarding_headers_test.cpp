// The deprecated forwarding headers at the old paths (<rebound/lease/...>)
// still give a user's code every name it had, until they are removed.
#include <rebound/lease/leader_elector.hpp>
#include <rebound/lease/lease.hpp>
#include <rebound/lease/lease_store.hpp>

#include <gtest/gtest.h>

#include <type_traits>

TEST(LeaseForwardingHeaders, OldPathsStillDeclareTheElectorTheStoreAndTheModel) {
  static_assert(std::is_class_v<rebound::lease::LeaderElector>);
  static_assert(std::is_class_v<rebound::lease::LeaderElectionConfig>);
  static_assert(std::is_class_v<rebound::lease::LeaseStore>);
  static_assert(std::is_class_v<rebound::lease::LeaseStoreOptions>);
  EXPECT_EQ(rebound::lease::lease_path("ns", "x"), "/apis/coordination.k8s.io/v1/namespaces/ns/leases/x");
}
