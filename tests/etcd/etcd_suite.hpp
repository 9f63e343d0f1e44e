// The base of a test suite that shares one real 3-member etcd cluster
// across its cases: started before the suite's first case, stopped after
// its last; a case fails (under REBOUND_REQUIRE_PEERS) or skips when etcd is
// not installed.
#pragma once

#include "etcd_cluster.hpp"
#include "support/peer_skip.hpp"

#include <gtest/gtest.h>

namespace rebound::testing {

class EtcdSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (EtcdCluster::available()) cluster = new EtcdCluster(3);
  }
  static void TearDownTestSuite() {
    delete cluster;
    cluster = nullptr;
  }
  void SetUp() override {
    if (!cluster) REBOUND_SKIP_FOR_PEER("etcd is not installed (scripts/setup.sh installs etcd-server)");
  }
  inline static EtcdCluster* cluster = nullptr;
};

}  // namespace rebound::testing
