// In-cluster configuration: the service-account directory and the
// KUBERNETES_SERVICE_* variables of a pod.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/in_cluster.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;

namespace {

class InClusterConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("token", "t0k\n");
    dir_.write("ca.crt", "CA\n");
    dir_.write("namespace", "team-a\n");
    env_.set("KUBERNETES_SERVICE_HOST", "127.0.0.1");
    env_.set("KUBERNETES_SERVICE_PORT", "6443");
    env_.set("POD_NAMESPACE", std::nullopt);
  }
  TempDir dir_;
  ScopedEnv env_;
};

}  // namespace

TEST_F(InClusterConfig, ReadsTheServiceAccountAndTheServiceAddress) {
  const RestConfig cfg = in_cluster_config(dir_.path());
  EXPECT_EQ(cfg.server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg.tls.ca_file, dir_ / "ca.crt");
  EXPECT_TRUE(cfg.tls.verify_peer);
  EXPECT_EQ(cfg.namespace_, "team-a");
  ASSERT_NE(cfg.credentials, nullptr);
  EXPECT_EQ(authorization(fetch_now(*cfg.credentials)), "Bearer t0k");
  EXPECT_EQ(cfg.origin_description, "in-cluster (" + dir_.path() + ")");
}

TEST_F(InClusterConfig, ARotatedTokenIsReadAfterARejection) {
  const RestConfig cfg = in_cluster_config(dir_.path());
  const auto first = fetch_now(*cfg.credentials);
  dir_.write("token", "t1k\n");
  EXPECT_EQ(authorization(fetch_now(*cfg.credentials, *first)), "Bearer t1k");
}

TEST_F(InClusterConfig, BracketsAnIpv6ServiceAddress) {
  env_.set("KUBERNETES_SERVICE_HOST", "fd00::1");
  EXPECT_EQ(in_cluster_config(dir_.path()).server, "https://[fd00::1]:6443");
}

TEST_F(InClusterConfig, NamespaceFromPodNamespaceThenTheFileThenDefault) {
  env_.set("POD_NAMESPACE", "from-env");
  EXPECT_EQ(in_cluster_config(dir_.path()).namespace_, "from-env");
  env_.set("POD_NAMESPACE", std::nullopt);
  std::filesystem::remove(dir_ / "namespace");
  EXPECT_EQ(in_cluster_config(dir_.path()).namespace_, "default");
}

TEST_F(InClusterConfig, OutsideAClusterOrWithoutTheFilesItThrowsAndIsNotPossible) {
  EXPECT_TRUE(in_cluster_possible(dir_.path()));
  env_.set("KUBERNETES_SERVICE_PORT", std::nullopt);
  EXPECT_FALSE(in_cluster_possible(dir_.path()));
  EXPECT_THROW(in_cluster_config(dir_.path()), InClusterError);
  env_.set("KUBERNETES_SERVICE_PORT", "6443");
  std::filesystem::remove(dir_ / "ca.crt");
  try {
    in_cluster_config(dir_.path());
    FAIL();
  } catch (const InClusterError& e) {
    EXPECT_EQ(e.file(), dir_ / "ca.crt");
  }
  std::filesystem::remove(dir_ / "token");
  EXPECT_FALSE(in_cluster_possible(dir_.path()));
}
