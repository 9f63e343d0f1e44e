// `rebound get/watch/bench/elect --kubeconfig F [--context C]` as a user
// runs them, with kubeconfig files written by kubectl, against the
// embedded server (TLS, self-signed: trusted only through the kubeconfig's
// CA, by file or embedded), a user's token, and an exec plugin's token.
#include "kube/kube_fixtures.hpp"

#include <rebound/lease_server/lease_store.hpp>
#include <rebound/server/server.hpp>

#include <gtest/gtest.h>

using namespace rebound::kube::testing;
using rebound::testing::run_shell;

namespace {

rebound::testing::ShellRun rebound_cmd(const std::string& args) {
  return run_shell(std::string(REBOUND_CLI_PATH) + " " + args + " 2>&1");
}

std::unique_ptr<rebound::server::Server> tls_server() {
  rebound::server::ServerOptions o;
  o.tls = true;
  auto s = std::make_unique<rebound::server::Server>(o);
  s->start();
  return s;
}

class CliKubeconfig : public ::testing::Test {
 protected:
  void SetUp() override {
    REBOUND_REQUIRE_KUBECTL();
    server_ = tls_server();
    file_ = dir_ / "config";
    // "local": the server and its CA file; "untrusted": the same server, no CA.
    kubectl_config(file_, "set-cluster local --server=" + server_->url() +
                              " --certificate-authority=" + server_->certificate_file());
    kubectl_config(file_, "set-cluster untrusted --server=" + server_->url());
    kubectl_config(file_, "set-context local --cluster=local --namespace=team-a");
    kubectl_config(file_, "set-context untrusted --cluster=untrusted");
    kubectl_config(file_, "use-context local");
  }

  TempDir dir_;
  std::unique_ptr<rebound::server::Server> server_;
  std::string file_;
};

}  // namespace

TEST_F(CliKubeconfig, GetReachesTheContextsServerByPathTrustingItsCa) {
  auto r = rebound_cmd("get --kubeconfig " + file_ + " /bytes/10");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.size(), 10u) << r.out;
  r = rebound_cmd("get --kubeconfig " + file_ + " " + server_->url() + "/bytes/5");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.size(), 5u) << "a full URL on the server";
  EXPECT_EQ(rebound_cmd("get " + server_->url() + "/bytes/5").exit_code, 60) << "without the kubeconfig's CA";
}

TEST_F(CliKubeconfig, CacertTurnsVerificationBackOnUnderInsecureSkipTlsVerify) {
  // As kubectl's --certificate-authority does: the CA given on the command
  // line is what the server must prove itself against, whatever the
  // kubeconfig said about skipping verification.
  kubectl_config(file_, "set-cluster insecure --insecure-skip-tls-verify=true --server=" + server_->url());
  kubectl_config(file_, "set-context insecure --cluster=insecure");
  const auto other_ca = dir_ / "other-ca.pem", other_key = dir_ / "other-ca.key";
  rebound::server::write_self_signed_certificate(other_ca, other_key);
  EXPECT_EQ(rebound_cmd("get --kubeconfig " + file_ + " --context insecure /").exit_code, 0) << "control: skipped";
  const auto wrong = rebound_cmd("get --kubeconfig " + file_ + " --context insecure --cacert " + other_ca + " /");
  EXPECT_EQ(wrong.exit_code, 60) << "a CA that did not issue the server's certificate was accepted\n" << wrong.out;
  const auto right = rebound_cmd("get --kubeconfig " + file_ + " --context insecure --cacert " +
                                 server_->certificate_file() + " /");
  EXPECT_EQ(right.exit_code, 0) << right.out;
  const auto both = rebound_cmd("get -k --kubeconfig " + file_ + " --context insecure --cacert " + other_ca + " /");
  EXPECT_EQ(both.exit_code, 0) << "-k with --cacert skips, as asked\n" << both.out;
}

TEST_F(CliKubeconfig, GetActsAsTheImpersonatedUserOfTheKubeconfig) {
  // kubectl cannot write these fields (`config set` refuses them): the file is written by hand.
  const auto file = dir_.write("impersonating",
                               "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                               "clusters:\n- name: k\n  cluster:\n    server: " + server_->url() +
                                   "\n    certificate-authority: " + server_->certificate_file() +
                                   "\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: alice\n"
                                   "users:\n- name: alice\n  user:\n    token: t0k\n    as: bob\n"
                                   "    as-groups: [devs, ops]\n    as-user-extra:\n      reason: [audit]\n");
  const auto r = rebound_cmd("get --kubeconfig " + file + " /echo");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  for (const char* field : {"authorization: Bearer t0k\n", "impersonate-user: bob\n", "impersonate-group: devs\n",
                            "impersonate-group: ops\n", "impersonate-extra-reason: audit\n"})
    EXPECT_NE(r.out.find(field), std::string::npos) << "missing " << field << "in what the server saw:\n" << r.out;
}

TEST_F(CliKubeconfig, GetTrustsAnEmbeddedCa) {
  kubectl_config(file_, "set-cluster embedded --embed-certs --server=" + server_->url() +
                            " --certificate-authority=" + server_->certificate_file());
  kubectl_config(file_, "set-context embedded --cluster=embedded");
  auto r = rebound_cmd("get --kubeconfig " + file_ + " --context embedded /bytes/4");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.size(), 4u);
}

TEST_F(CliKubeconfig, ContextChoosesAnotherClusterAndFlagsOverrideIt) {
  EXPECT_EQ(rebound_cmd("get --kubeconfig " + file_ + " --context untrusted /").exit_code, 60);
  EXPECT_EQ(rebound_cmd("get -k --kubeconfig " + file_ + " --context untrusted /").exit_code, 0);
  EXPECT_EQ(rebound_cmd("get --cacert " + server_->certificate_file() + " --kubeconfig " + file_ + " --context untrusted /")
                .exit_code,
            0);
}

TEST_F(CliKubeconfig, ContextAloneUsesTheKubeconfigVariable) {
  ScopedEnv env;
  env.set("KUBECONFIG", file_);
  auto r = rebound_cmd("get --context local /bytes/3");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.size(), 3u);
}

TEST_F(CliKubeconfig, WatchAndBenchUseTheKubeconfig) {
  auto w = rebound_cmd("watch --kubeconfig " + file_ + " /status/200 --interval 100ms --duration 500ms");
  EXPECT_EQ(w.exit_code, 0) << w.out;
  auto b = rebound_cmd("bench --kubeconfig " + file_ + " /bytes/1 -n 20 --no-progress");
  EXPECT_EQ(b.exit_code, 0) << b.out;
}

TEST_F(CliKubeconfig, AnUnusableKubeconfigIsOneLineAndExit2) {
  const std::string broken = dir_.write("broken", "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n"
                                                  "    certificate-authority-data: '@@@'\n");
  for (const std::string cmd : {"get", "watch", "bench"}) {
    auto r = rebound_cmd(cmd + " --kubeconfig " + broken + " /");
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.out;
    EXPECT_EQ(r.out, "rebound " + cmd + ": " + broken + ":5: clusters[0].cluster.certificate-authority-data: not valid base64\n");
  }
  auto e = rebound_cmd("elect --kubeconfig " + (dir_ / "missing") + " --lease lock -- true");
  EXPECT_EQ(e.exit_code, 2) << e.out;
  EXPECT_EQ(e.out, "rebound elect: " + (dir_ / "missing") + ": does not exist (given as the kubeconfig file)\n");
  auto c = rebound_cmd("get --kubeconfig " + file_ + " --context nope /");
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.out.find("context \"nope\" does not exist"), std::string::npos) << c.out;
}

TEST_F(CliKubeconfig, HelpDocumentsTheFlagsAndExitCode) {
  for (const std::string cmd : {"get", "watch", "bench", "elect"}) {
    auto h = rebound_cmd(cmd + " --help");
    for (const char* flag : {"--kubeconfig", "--context", "--cert", "--key", "exit 2"})
      EXPECT_NE(h.out.find(flag), std::string::npos) << cmd << " --help lacks " << flag;
  }
  EXPECT_NE(rebound_cmd("elect --help").out.find("--in-cluster"), std::string::npos);
}

TEST_F(CliKubeconfig, ElectHoldsALeaseInTheContextsNamespace) {
  auto store = rebound::lease::install_lease_api(*server_);
  auto r = rebound_cmd("elect --kubeconfig " + file_ +
                       " --lease lock --identity me --exact-identity --duration 1500ms"
                       " --lease-duration 3s --renew-deadline 2s --retry-period 200ms");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("acquired"), std::string::npos) << r.out;
  const auto lease = store->get("team-a", "lock");
  ASSERT_TRUE(lease) << "no lease team-a/lock:\n" << r.out;
}

TEST_F(CliKubeconfig, GetSendsTheUsersToken) {
  rebound::lease::install_lease_api(*server_, {.persist_path = {}, .bearer_token = "t0k"});
  kubectl_config(file_, "set-credentials alice --token=t0k");
  kubectl_config(file_, "set-context with-token --cluster=local --user=alice");
  const std::string path = " /apis/coordination.k8s.io/v1/namespaces/default/leases/absent";
  auto anonymous = rebound_cmd("get -i --kubeconfig " + file_ + path);
  EXPECT_NE(anonymous.out.find(" 401\r\n"), std::string::npos) << "control: the server wants a token\n" << anonymous.out;
  auto with_token = rebound_cmd("get -i --kubeconfig " + file_ + " --context with-token" + path);
  EXPECT_NE(with_token.out.find(" 404\r\n"), std::string::npos) << "authorized, and the lease is absent\n" << with_token.out;
}

TEST_F(CliKubeconfig, ElectUsesAnExecPluginsToken) {
  auto store = rebound::lease::install_lease_api(*server_, {.persist_path = {}, .bearer_token = "from-plugin"});
  // In a folder beside the kubeconfig: kubectl writes the command relative
  // to the file ("bin/plugin"), and a command without a slash would be
  // looked up on PATH (client-go's rule; a plugin right beside the file
  // would be written as a bare "plugin" and not be found by kubectl either).
  const std::string plugin = dir_.write("bin/plugin", "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                                                  "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-plugin\"}}'\n", true);
  kubectl_config(file_, "set-credentials exec --exec-command=" + plugin +
                            " --exec-api-version=client.authentication.k8s.io/v1 --exec-interactive-mode=Never");
  kubectl_config(file_, "set-context exec --cluster=local --user=exec --namespace=team-b");
  auto r = rebound_cmd("elect --kubeconfig " + file_ + " --context exec --lease lock --duration 1500ms"
                       " --lease-duration 3s --renew-deadline 2s --retry-period 200ms");
  EXPECT_TRUE(store->get("team-b", "lock")) << r.out;
}
