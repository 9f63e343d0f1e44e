// Which kubeconfig files are read and how they merge: the KUBECONFIG list
// in order with the first file winning each name whole, current-context
// from the first file that sets it, missing files skipped, ~/.kube/config
// as the fallback, an explicit path alone; each file's relative paths
// against its own directory. The files are written by kubectl.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/kubeconfig.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;

namespace {

class LoadingRules : public ::testing::Test {
 protected:
  void SetUp() override {
    REBOUND_REQUIRE_KUBECTL();
    env_.set("KUBECONFIG", std::nullopt);
    env_.set("HOME", dir_ / "home");
    a_ = dir_ / "a/config";
    b_ = dir_ / "b/config";
    std::filesystem::create_directories(dir_ / "a");
    std::filesystem::create_directories(dir_ / "b");
  }

  TempDir dir_;
  ScopedEnv env_;
  std::string a_, b_;
};

}  // namespace

TEST_F(LoadingRules, TheFirstFileInKubeconfigWinsEachNameWhole) {
  kubectl_config(a_, "set-cluster shared --server=https://127.0.0.1:1001");
  kubectl_config(b_, "set-cluster shared --server=https://127.0.0.1:2002 --tls-server-name=from-b");
  kubectl_config(a_, "set-context ctx --cluster=shared");
  kubectl_config(a_, "use-context ctx");
  env_.set("KUBECONFIG", a_ + ":" + b_);
  const RestConfig cfg = load_kubeconfig();
  EXPECT_EQ(cfg.server, "https://127.0.0.1:1001");
  EXPECT_EQ(cfg.tls.sni, "") << "b's fields of a name a already has are discarded, even ones a lacks";

  env_.set("KUBECONFIG", b_ + ":" + a_);
  EXPECT_EQ(load_kubeconfig().server, "https://127.0.0.1:2002");
}

TEST_F(LoadingRules, CurrentContextComesFromTheFirstFileThatSetsIt) {
  kubectl_config(a_, "set-cluster c --server=https://127.0.0.1:1001");  // a: no current-context
  kubectl_config(b_, "set-cluster c --server=https://127.0.0.1:2002");
  kubectl_config(b_, "set-context from-b --cluster=c --namespace=b-ns");
  kubectl_config(b_, "use-context from-b");
  env_.set("KUBECONFIG", a_ + ":" + b_);
  const RestConfig cfg = load_kubeconfig();
  EXPECT_EQ(cfg.namespace_, "b-ns");
  EXPECT_EQ(cfg.server, "https://127.0.0.1:1001") << "context from b, cluster c from a (first wins)";
}

TEST_F(LoadingRules, EntriesFromDifferentFilesCombine) {
  kubectl_config(a_, "set-credentials alice --token=from-a");
  kubectl_config(b_, "set-cluster c --server=https://127.0.0.1:2002 --insecure-skip-tls-verify=true");
  kubectl_config(b_, "set-context ctx --cluster=c --user=alice");
  env_.set("KUBECONFIG", a_ + ":" + b_);
  const RestConfig cfg = load_kubeconfig({.path = {}, .context = "ctx"});
  EXPECT_EQ(cfg.server, "https://127.0.0.1:2002");
  EXPECT_EQ(authorization(fetch_now(*cfg.credentials)), "Bearer from-a");
}

TEST_F(LoadingRules, RelativePathsResolveAgainstTheDirectoryOfTheFileThatNamedThem) {
  dir_.write("a/a-ca.crt", "A\n");
  dir_.write("b/b-client.crt", "C\n");
  dir_.write("b/b-client.key", "K\n");
  kubectl_config(a_, "set-cluster c --server=https://127.0.0.1:1001 --certificate-authority=a-ca.crt", dir_ / "a");
  kubectl_config(b_, "set-credentials u --client-certificate=b-client.crt --client-key=b-client.key", dir_ / "b");
  kubectl_config(b_, "set-context ctx --cluster=c --user=u");
  env_.set("KUBECONFIG", a_ + ":" + b_);
  const RestConfig cfg = load_kubeconfig({.path = {}, .context = "ctx"});
  EXPECT_EQ(cfg.tls.ca_file, dir_ / "a/a-ca.crt");
  EXPECT_EQ(cfg.tls.cert_file, dir_ / "b/b-client.crt");
  EXPECT_EQ(cfg.tls.key_file, dir_ / "b/b-client.key");
}

TEST_F(LoadingRules, MissingFilesAndEmptyEntriesInTheListAreSkipped) {
  kubectl_config(b_, "set-cluster c --server=https://127.0.0.1:2002");
  kubectl_config(b_, "set-context ctx --cluster=c");
  kubectl_config(b_, "use-context ctx");
  env_.set("KUBECONFIG", ":" + (dir_ / "nowhere/config") + "::" + b_ + ":");
  EXPECT_EQ(load_kubeconfig().server, "https://127.0.0.1:2002");
}

TEST_F(LoadingRules, HomeKubeConfigIsTheFallbackWhenKubeconfigIsUnsetOrEmpty) {
  const std::string home_config = dir_ / "home/.kube/config";
  std::filesystem::create_directories(dir_ / "home/.kube");
  kubectl_config(home_config, "set-cluster c --server=https://127.0.0.1:3003");
  kubectl_config(home_config, "set-context ctx --cluster=c");
  kubectl_config(home_config, "use-context ctx");
  EXPECT_EQ(load_kubeconfig().server, "https://127.0.0.1:3003");
  env_.set("KUBECONFIG", "");
  EXPECT_EQ(load_kubeconfig().server, "https://127.0.0.1:3003");
}

TEST_F(LoadingRules, AnExplicitPathIsReadAloneAndMustExist) {
  kubectl_config(a_, "set-cluster c --server=https://127.0.0.1:1001");
  kubectl_config(a_, "set-context ctx --cluster=c");
  kubectl_config(a_, "use-context ctx");
  kubectl_config(b_, "set-cluster c --server=https://127.0.0.1:2002");
  kubectl_config(b_, "set-context ctx --cluster=c");
  kubectl_config(b_, "use-context ctx");
  env_.set("KUBECONFIG", a_);
  EXPECT_EQ(load_kubeconfig({.path = b_, .context = {}}).server, "https://127.0.0.1:2002");
  try {
    load_kubeconfig({.path = dir_ / "missing", .context = {}});
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), dir_ / "missing");
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(LoadingRules, NoFilesAtAllMeansNoContext) {
  try {
    load_kubeconfig();
    FAIL() << "loaded nothing";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no context chosen"), std::string::npos) << e.what();
  }
}
