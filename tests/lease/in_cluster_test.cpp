// LeaderElectionConfig::in_cluster(): the service-account files and the
// KUBERNETES_SERVICE_* variables, and an election run with such a config
// against the embedded server standing in for the API server.
#include "lease/lease_fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

// A fake service-account directory, and the environment of a pod.
class InCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rebound-sa-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    write("token", "t0k\n");
    write("ca.crt", "not really a certificate\n");
    write("namespace", "team-a\n");
    ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    ::setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  }
  void TearDown() override {
    ::unsetenv("KUBERNETES_SERVICE_HOST");
    ::unsetenv("KUBERNETES_SERVICE_PORT");
    std::filesystem::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& content) { std::ofstream(dir_ + "/" + name) << content; }

  std::string dir_;
};

}  // namespace

TEST_F(InCluster, ReadsTheServiceAccountAndTheServiceAddress) {
  const auto cfg = LeaderElectionConfig::in_cluster("lock", "pod-1", dir_);
  EXPECT_EQ(cfg.base_url, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg.namespace_, "team-a");
  EXPECT_EQ(cfg.name, "lock");
  EXPECT_EQ(cfg.identity, "pod-1");
  EXPECT_EQ(cfg.bearer_token_file, dir_ + "/token");
  EXPECT_EQ(cfg.client_options.tls.ca_file, dir_ + "/ca.crt");
  EXPECT_EQ(cfg.validate(), "");
}

TEST_F(InCluster, BracketsAnIpv6ServiceAddress) {
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(LeaderElectionConfig::in_cluster("lock", "pod-1", dir_).base_url, "https://[fd00::1]:6443");
}

TEST_F(InCluster, NamespaceDefaultsWhenTheFileIsMissing) {
  std::filesystem::remove(dir_ + "/namespace");
  EXPECT_EQ(LeaderElectionConfig::in_cluster("lock", "pod-1", dir_).namespace_, "default");
}

TEST_F(InCluster, OutsideAClusterItThrows) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_THROW(LeaderElectionConfig::in_cluster("lock", "pod-1", dir_), std::runtime_error);
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  std::filesystem::remove(dir_ + "/token");
  EXPECT_THROW(LeaderElectionConfig::in_cluster("lock", "pod-1", dir_), std::runtime_error);
}

TEST_F(InCluster, AnInClusterConfigLeadsAgainstAServerRequiringItsToken) {
  auto s = start_tls_server();
  auto store = install_lease_api(*s, {.persist_path = {}, .bearer_token = "t0k"});
  std::filesystem::copy_file(s->certificate_file(), dir_ + "/ca.crt",
                             std::filesystem::copy_options::overwrite_existing);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(s->port()).c_str(), 1);

  auto cfg = LeaderElectionConfig::in_cluster("lock", "pod-1", dir_);
  cfg.lease_duration = test_lease;
  cfg.renew_deadline = test_renew_deadline;
  cfg.retry_period = test_retry;
  Recorder rec;
  rec.attach(cfg);
  LeaderElector e(cfg);
  e.start();
  ASSERT_TRUE(wait_until([&] { return e.is_leader(); }, 10s)) << rec.timeline();
  const auto lease = store->get("team-a", "lock");
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->spec.holder_identity, e.identity());
  EXPECT_EQ(e.identity().rfind("pod-1_", 0), 0u) << "the pod name, made unique per process";
}
