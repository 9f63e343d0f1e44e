// A kubeconfig that cannot be used is reported in one line naming the
// file, the line and the key path, and what is wrong - never a secret.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/kubeconfig.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;

namespace {

class KubeconfigErrors : public ::testing::Test {
 protected:
  // Loads `yaml` written to <dir>/config; returns the error's what().
  std::string error_of(const std::string& yaml, const std::string& context = "") {
    dir_.write("config", yaml);
    try {
      load_kubeconfig({.path = file_, .context = context});
    } catch (const ConfigError& e) {
      last_ = e;
      return e.what();
    }
    ADD_FAILURE() << "loaded:\n" << yaml;
    return "";
  }

  TempDir dir_;
  const std::string file_ = dir_ / "config";
  std::optional<ConfigError> last_;
};

const std::string cluster_ok = R"(
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
)";

}  // namespace

TEST_F(KubeconfigErrors, InvalidBase64NamesFileLineAndKey) {
  const std::string what = error_of(cluster_ok + R"(users:
- name: first
  user:
    token: t
- name: second
  user:
    client-certificate-data: "not*base64"
)");
  EXPECT_EQ(what, file_ + ":13: users[1].user.client-certificate-data: not valid base64");
  EXPECT_EQ(last_->key(), "users[1].user.client-certificate-data");
  EXPECT_EQ(last_->line(), 13);
}

TEST_F(KubeconfigErrors, AnExecThatIsNotAMappingNamesItsKey) {
  // kubeconfig_fuzz found yaml-cpp's BadSubscript escaping here instead.
  const std::string what = error_of(cluster_ok + R"(users:
- name: u
  user:
    exec: aws eks get-token
)");
  EXPECT_EQ(last_->key(), "users[0].user.exec") << what;
  EXPECT_EQ(last_->line(), 10) << what;
}

TEST_F(KubeconfigErrors, AnImpersonationExtraKeyThatIsNotAStringNamesItsKey) {
  const std::string what = error_of(cluster_ok + R"(users:
- name: u
  user:
    as-user-extra:
      ? [a, b]
      : [c]
)");
  EXPECT_EQ(last_->key(), "users[0].user.as-user-extra") << what;
}

TEST_F(KubeconfigErrors, MalformedYamlGivesTheLine) {
  const std::string what = error_of("clusters:\n- name: c\n  cluster: {server: [unclosed\n");
  EXPECT_EQ(what.rfind(file_ + ":", 0), 0u) << what;
  EXPECT_NE(what.find("not valid YAML"), std::string::npos) << what;
  EXPECT_GT(last_->line(), 0);
}

TEST_F(KubeconfigErrors, WrongTypesAreNamed) {
  EXPECT_EQ(error_of("clusters: oops\n"), file_ + ":1: clusters: expected a list");
  EXPECT_EQ(error_of(cluster_ok + "    server2: x\n  extra: 1\ncontexts:\n- name: x\n  context: [1]\n"),
            file_ + ":11: contexts[0].context: expected a mapping");
  EXPECT_EQ(error_of("- a\n- b\n"), file_ + ":1: not a kubeconfig: expected a mapping at the top");
  EXPECT_NE(error_of(cluster_ok.substr(0, cluster_ok.size() - 5) + "maybe\n").find(
                "clusters[0].cluster.insecure-skip-tls-verify: expected true or false"),
            std::string::npos);
}

TEST_F(KubeconfigErrors, UnknownContextClusterOrUser) {
  EXPECT_EQ(error_of(cluster_ok + "current-context: nope\n"), file_ + ":7: current-context: context \"nope\" does not exist");
  EXPECT_NE(error_of(cluster_ok, "nope").find("context \"nope\" does not exist"), std::string::npos);
  EXPECT_EQ(error_of(cluster_ok + "contexts:\n- name: x\n  context:\n    cluster: other\ncurrent-context: x\n"),
            file_ + ":10: contexts[0].context.cluster: cluster \"other\" does not exist");
  EXPECT_EQ(error_of(cluster_ok + "contexts:\n- name: x\n  context:\n    cluster: c\n    user: ghost\ncurrent-context: x\n"),
            file_ + ":11: contexts[0].context.user: user \"ghost\" does not exist");
}

TEST_F(KubeconfigErrors, MissingServer) {
  EXPECT_EQ(error_of("clusters:\n- name: c\n  cluster:\n    tls-server-name: x\n"
                     "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n"),
            file_ + ":2: clusters[0].cluster.server: missing: the cluster has no server");
}

TEST_F(KubeconfigErrors, UnreadableFilesNamedByTheConfig) {
  const std::string what = error_of(
      "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority: no/ca.crt\n"
      "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
  EXPECT_EQ(what.rfind(file_ + ":5: clusters[0].cluster.certificate-authority: cannot read " + (dir_ / "no/ca.crt"), 0), 0u)
      << what;
  EXPECT_NE(error_of(cluster_ok + "users:\n- name: u\n  user:\n    tokenFile: /nonexistent/token\n"
                     "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n")
                .find("users[0].user.tokenFile: cannot read /nonexistent/token"),
            std::string::npos);
}

TEST_F(KubeconfigErrors, AKubeconfigThatIsADirectoryOrUnreadable) {
  std::filesystem::create_directories(dir_ / "dir");
  try {
    load_kubeconfig({.path = dir_ / "dir", .context = {}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "dir") + ": is a directory, not a kubeconfig file");
  }
}

TEST_F(KubeconfigErrors, ProxyUrlTakesHttpAndSocks5AndNamesWhatItCannotUse) {
  const std::string ctx = "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
  EXPECT_EQ(error_of(cluster_ok + "    proxy-url: https://127.0.0.1:3128\n" + ctx),
            file_ + ":7: clusters[0].cluster.proxy-url: https:// proxies are not supported yet (http:// and socks5:// are)");
  EXPECT_EQ(error_of(cluster_ok + "    proxy-url: ftp://127.0.0.1:3128\n" + ctx),
            file_ + ":7: clusters[0].cluster.proxy-url: the scheme must be http, https or socks5");
}

TEST_F(KubeconfigErrors, TwoAuthenticationMethodsAreRefusedWithoutQuotingSecrets) {
  const std::string what = error_of(cluster_ok + "users:\n- name: u\n  user:\n    token: t0ps3cret\n    username: bob\n"
                                                 "    password: hunter2\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                                                 "current-context: x\n");
  EXPECT_NE(what.find("users[0].user: more than one authentication method (token, basic auth)"), std::string::npos) << what;
  EXPECT_EQ(what.find("t0ps3cret"), std::string::npos);
  EXPECT_EQ(what.find("hunter2"), std::string::npos);
}

TEST_F(KubeconfigErrors, AuthProviderAndHalfAClientCertificate) {
  const std::string ctx = "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
  EXPECT_NE(error_of(cluster_ok + "users:\n- name: u\n  user:\n    auth-provider: {name: oidc}\n" + ctx)
                .find("users[0].user.auth-provider: auth-provider plugins are not supported"),
            std::string::npos);
  dir_.write("c.crt", "C");
  EXPECT_NE(error_of(cluster_ok + "users:\n- name: u\n  user:\n    client-certificate: c.crt\n" + ctx)
                .find("users[0].user.client-certificate: a client certificate needs client-key"),
            std::string::npos);
}

TEST_F(KubeconfigErrors, ExecInteractiveAlwaysAndUnsupportedVersions) {
  const std::string ctx = "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
  EXPECT_NE(error_of(cluster_ok + "users:\n- name: u\n  user:\n    exec:\n      command: p\n"
                                  "      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Always\n" + ctx)
                .find("users[0].user.exec.interactiveMode: Always is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(cluster_ok + "users:\n- name: u\n  user:\n    exec:\n      command: p\n"
                                  "      apiVersion: client.authentication.k8s.io/v1alpha1\n" + ctx)
                .find("users[0].user.exec.apiVersion: \"client.authentication.k8s.io/v1alpha1\" is not supported"),
            std::string::npos);
}

TEST_F(KubeconfigErrors, ADuplicateNameInOneFile) {
  EXPECT_EQ(error_of(cluster_ok + "- name: c\n  cluster: {server: https://x}\n"),
            file_ + ":7: clusters[1].name: duplicate name \"c\" in this list");
}

TEST_F(KubeconfigErrors, AnEmptyFileIsAnEmptyConfig) {
  EXPECT_NE(error_of("").find("no context chosen"), std::string::npos);
}
