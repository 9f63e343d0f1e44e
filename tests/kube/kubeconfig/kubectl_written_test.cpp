// Kubeconfig files written by the real kubectl (`kubectl config
// set-cluster/set-credentials/set-context/use-context`) load as kubectl
// reads them: every cluster and user field, embedded data, token files,
// exec entries, contexts and namespaces, relative paths.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/kubeconfig.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;

namespace {

class KubectlWritten : public ::testing::Test {
 protected:
  void SetUp() override {
    REBOUND_REQUIRE_KUBECTL();
    file_ = dir_ / "kube/config";
    std::filesystem::create_directories(dir_ / "kube");
  }
  // kubectl config ... on our file, run from the file's directory.
  void kubectl(const std::string& args) { kubectl_config(file_, args, dir_ / "kube"); }
  RestConfig load(const std::string& context = "") { return load_kubeconfig({.path = file_, .context = context}); }

  TempDir dir_;
  std::string file_;
};

}  // namespace

TEST_F(KubectlWritten, ServerAndCertificateAuthorityFileRelativeToTheKubeconfigsDirectory) {
  dir_.write("kube/pki/ca.crt", "CA PEM\n");
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --certificate-authority=pki/ca.crt");
  kubectl("set-context dev --cluster=dev");
  kubectl("use-context dev");
  ASSERT_NE(read_file(file_).find("certificate-authority: pki/ca.crt"), std::string::npos)
      << "kubectl wrote the path relative to the file:\n" << read_file(file_);

  const RestConfig cfg = load();  // this process's working directory is elsewhere
  EXPECT_EQ(cfg.server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg.tls.ca_file, dir_ / "kube/pki/ca.crt");
  EXPECT_TRUE(cfg.tls.ca_pem.empty());
  EXPECT_TRUE(cfg.tls.verify_peer);
  EXPECT_EQ(cfg.namespace_, "default");
  EXPECT_EQ(cfg.credentials, nullptr) << "a context without a user is anonymous";
  EXPECT_EQ(cfg.origin_description, "kubeconfig " + file_ + ", context dev");
}

TEST_F(KubectlWritten, EmbeddedCertificateAuthorityIsDecoded) {
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  dir_.write("ca.crt", pem);
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --embed-certs --certificate-authority=" + (dir_ / "ca.crt"));
  kubectl("set-context dev --cluster=dev");
  kubectl("use-context dev");
  ASSERT_NE(read_file(file_).find("certificate-authority-data:"), std::string::npos);

  const RestConfig cfg = load();
  EXPECT_EQ(cfg.tls.ca_pem, pem);
  EXPECT_TRUE(cfg.tls.ca_file.empty());
}

TEST_F(KubectlWritten, InsecureSkipVerifyAndTlsServerName) {
  kubectl("set-cluster dev --server=https://10.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-cluster named --server=https://127.0.0.1:6443 --tls-server-name=api.example");
  kubectl("set-context a --cluster=dev");
  kubectl("set-context b --cluster=named");
  EXPECT_FALSE(load("a").tls.verify_peer);
  const RestConfig b = load("b");
  EXPECT_TRUE(b.tls.verify_peer);
  EXPECT_EQ(b.tls.sni, "api.example");
}

TEST_F(KubectlWritten, TokenUserSendsABearerToken) {
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-credentials alice --token=s3cret");
  kubectl("set-context dev --cluster=dev --user=alice --namespace=team-a");
  kubectl("use-context dev");
  const RestConfig cfg = load();
  ASSERT_NE(cfg.credentials, nullptr);
  EXPECT_EQ(authorization(fetch_now(*cfg.credentials)), "Bearer s3cret");
  EXPECT_EQ(cfg.namespace_, "team-a");
  EXPECT_EQ(cfg.origin_description.find("s3cret"), std::string::npos);
}

TEST_F(KubectlWritten, TokenFileIsResolvedAgainstTheKubeconfigAndReReadAfterARejection) {
  dir_.write("kube/tokens/alice", "first\n");
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-credentials alice");
  kubectl("set users.alice.tokenFile tokens/alice");
  kubectl("set-context dev --cluster=dev --user=alice");
  kubectl("use-context dev");
  const RestConfig cfg = load();
  ASSERT_NE(cfg.credentials, nullptr);
  const auto first = fetch_now(*cfg.credentials);
  EXPECT_EQ(authorization(first), "Bearer first");
  dir_.write("kube/tokens/alice", "rotated\n");
  EXPECT_EQ(authorization(fetch_now(*cfg.credentials, *first)), "Bearer rotated");
}

TEST_F(KubectlWritten, UsernameAndPasswordSendBasicAuth) {
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-credentials bob --username=bob --password=pw");
  kubectl("set-context dev --cluster=dev --user=bob");
  kubectl("use-context dev");
  EXPECT_EQ(authorization(fetch_now(*load().credentials)), "Basic Ym9iOnB3");  // base64("bob:pw")
}

TEST_F(KubectlWritten, ClientCertificateFilesAndEmbeddedData) {
  dir_.write("kube/pki/client.crt", "CERT\n");
  dir_.write("kube/pki/client.key", "KEY\n");
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-credentials files --client-certificate=pki/client.crt --client-key=pki/client.key");
  kubectl("set-credentials embedded --embed-certs --client-certificate=pki/client.crt --client-key=pki/client.key");
  kubectl("set-context files --cluster=dev --user=files");
  kubectl("set-context embedded --cluster=dev --user=embedded");

  const RestConfig files = load("files");
  EXPECT_EQ(files.tls.cert_file, dir_ / "kube/pki/client.crt");
  EXPECT_EQ(files.tls.key_file, dir_ / "kube/pki/client.key");
  EXPECT_EQ(files.credentials, nullptr);
  const RestConfig embedded = load("embedded");
  EXPECT_EQ(embedded.tls.cert_pem, "CERT\n");
  EXPECT_EQ(embedded.tls.key_pem, "KEY\n");
  EXPECT_TRUE(embedded.tls.cert_file.empty());
}

TEST_F(KubectlWritten, ExecEntryRunsThePluginWithItsArgsAndEnv) {
  const std::string seen = dir_ / "seen";
  const std::string plugin = dir_.write("bin/plugin", R"(#!/bin/sh
printf '%s\n' "$*" > ")" + seen + R"("
printf '%s\n' "$GREETING" >> ")" + seen + R"("
printf '%s\n' "$KUBERNETES_EXEC_INFO" >> ")" + seen + R"("
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'
)", true);
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-credentials eks --exec-command=" + plugin +
          " --exec-api-version=client.authentication.k8s.io/v1 --exec-arg=token --exec-arg=--cluster=dev"
          " --exec-env=GREETING=hello --exec-interactive-mode=Never");
  kubectl("set-context dev --cluster=dev --user=eks");
  kubectl("use-context dev");

  const RestConfig cfg = load();
  ASSERT_NE(cfg.credentials, nullptr);
  EXPECT_EQ(authorization(fetch_now(*cfg.credentials)), "Bearer from-plugin");
  const std::string lines = read_file(seen);
  EXPECT_NE(lines.find("token --cluster=dev\nhello\n"), std::string::npos) << lines;
  EXPECT_NE(lines.find(R"("apiVersion":"client.authentication.k8s.io/v1")"), std::string::npos) << lines;
  EXPECT_NE(lines.find(R"("interactive":false)"), std::string::npos) << lines;
  EXPECT_EQ(lines.find("cluster\":{"), std::string::npos) << "no provideClusterInfo, no spec.cluster: " << lines;
}

TEST_F(KubectlWritten, ExecProvideClusterInfoSendsTheClusterToThePlugin) {
  const std::string seen = dir_ / "seen";
  const std::string plugin = dir_.write("bin/plugin", R"(#!/bin/sh
printf '%s' "$KUBERNETES_EXEC_INFO" > ")" + seen + R"("
echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'
)", true);
  dir_.write("kube/ca.crt", "CA\n");
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --certificate-authority=ca.crt --tls-server-name=api");
  kubectl("set-credentials u --exec-command=" + plugin +
          " --exec-api-version=client.authentication.k8s.io/v1beta1 --exec-provide-cluster-info=true");
  kubectl("set-context dev --cluster=dev --user=u");
  kubectl("use-context dev");
  EXPECT_EQ(authorization(fetch_now(*load().credentials)), "Bearer t");
  const std::string info = read_file(seen);
  EXPECT_NE(info.find(R"("server":"https://127.0.0.1:6443")"), std::string::npos) << info;
  EXPECT_NE(info.find(R"("tls-server-name":"api")"), std::string::npos) << info;
  EXPECT_NE(info.find(R"("certificate-authority-data":"Q0EK")"), std::string::npos) << "base64 of the CA file: " << info;
}

// client-go's rule: v1 plugins must declare whether they want a terminal;
// kubectl writes no interactiveMode unless told.
TEST_F(KubectlWritten, ExecV1WithoutInteractiveModeIsRefusedNamingTheKey) {
  kubectl("set-cluster dev --server=https://127.0.0.1:6443 --insecure-skip-tls-verify=true");
  kubectl("set-credentials u --exec-command=/bin/true --exec-api-version=client.authentication.k8s.io/v1");
  kubectl("set-context dev --cluster=dev --user=u");
  kubectl("use-context dev");
  try {
    load();
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), file_);
    EXPECT_EQ(e.key(), "users[0].user.exec.interactiveMode");
    EXPECT_NE(std::string(e.what()).find("--exec-interactive-mode"), std::string::npos) << e.what();
  }
}

TEST_F(KubectlWritten, NamedContextOverridesCurrentContextAndBringsItsNamespace) {
  kubectl("set-cluster one --server=https://127.0.0.1:1001 --insecure-skip-tls-verify=true");
  kubectl("set-cluster two --server=https://127.0.0.1:1002 --insecure-skip-tls-verify=true");
  kubectl("set-context one --cluster=one --namespace=ns-one");
  kubectl("set-context two --cluster=two --namespace=ns-two");
  kubectl("use-context one");
  EXPECT_EQ(load().server, "https://127.0.0.1:1001");
  EXPECT_EQ(load().namespace_, "ns-one");
  const RestConfig two = load("two");
  EXPECT_EQ(two.server, "https://127.0.0.1:1002");
  EXPECT_EQ(two.namespace_, "ns-two");
  EXPECT_THROW(load("three"), ConfigError);
}

TEST_F(KubectlWritten, CredentialsAreNotUsedOverPlainHttpAsInClientGo) {
  kubectl("set-cluster dev --server=http://127.0.0.1:8080");
  kubectl("set-credentials alice --token=s3cret");
  kubectl("set-context dev --cluster=dev --user=alice");
  kubectl("use-context dev");
  const RestConfig cfg = load();
  EXPECT_EQ(cfg.server, "http://127.0.0.1:8080");
  EXPECT_EQ(cfg.credentials, nullptr);
}
