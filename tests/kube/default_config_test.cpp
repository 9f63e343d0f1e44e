// default_config(): client-go's choice - the kubeconfig files when they
// choose a context, the pod's service account when they choose nothing.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/kubeconfig.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;

namespace {

class DefaultConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    sa_ = dir_ / "sa";
    dir_.write("sa/token", "t0k\n");
    dir_.write("sa/ca.crt", "CA\n");
    env_.set("KUBECONFIG", std::nullopt);
    env_.set("HOME", dir_ / "home");
    env_.set("POD_NAMESPACE", std::nullopt);
    env_.set("KUBERNETES_SERVICE_HOST", "127.0.0.1");
    env_.set("KUBERNETES_SERVICE_PORT", "6443");
  }
  void home_config(const std::string& yaml) { dir_.write("home/.kube/config", yaml); }

  TempDir dir_;
  ScopedEnv env_;
  std::string sa_;
};

const std::string one_context = R"(
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:7443", insecure-skip-tls-verify: true}
contexts:
- name: ctx
  context: {cluster: c}
)";

}  // namespace

TEST_F(DefaultConfig, NoKubeconfigInAPodIsInCluster) {
  EXPECT_EQ(default_config({}, sa_).server, "https://127.0.0.1:6443");
}

TEST_F(DefaultConfig, AKubeconfigWithACurrentContextWinsOverThePod) {
  home_config(one_context + "current-context: ctx\n");
  EXPECT_EQ(default_config({}, sa_).server, "https://127.0.0.1:7443");
}

TEST_F(DefaultConfig, AKubeconfigThatChoosesNoContextLeavesItToThePod) {
  home_config(one_context);
  EXPECT_EQ(default_config({}, sa_).server, "https://127.0.0.1:6443");
  EXPECT_EQ(default_config({.path = {}, .context = "ctx"}, sa_).server, "https://127.0.0.1:7443") << "a named context is a choice";
}

TEST_F(DefaultConfig, ABrokenKubeconfigIsReportedNotReplacedByThePod) {
  home_config(one_context + "current-context: gone\n");
  EXPECT_THROW(default_config({}, sa_), ConfigError);
}

TEST_F(DefaultConfig, OutsideAPodNothingIsAnError) {
  env_.set("KUBERNETES_SERVICE_HOST", std::nullopt);
  try {
    default_config({}, sa_);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no context chosen"), std::string::npos) << e.what();
  }
}
