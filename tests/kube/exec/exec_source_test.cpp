// The exec credential plugin as a CredentialSource, with small shell-script
// plugins: caching until expirationTimestamp, a re-run after a 401 of the
// current token, one run for concurrent fetches, never on the caller's
// thread, a timeout that kills it, and errors that name the command and
// quote its stderr but never the token.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/exec_credentials.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>
#include <thread>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;
using namespace std::chrono_literals;

namespace {

class ExecPlugin : public ::testing::Test {
 protected:
  // A plugin that counts its runs in <dir>/runs, then runs `body`.
  std::string plugin(const std::string& body) {
    return dir_.write("plugin", "#!/bin/sh\necho run >> '" + (dir_ / "runs") + "'\n" + body + "\n", true);
  }
  static std::string answer(const std::string& token, const std::string& expiry = "",
                            const std::string& version = "client.authentication.k8s.io/v1") {
    std::string status = "\"token\":\"" + token + "\"";
    if (!expiry.empty()) status += ",\"expirationTimestamp\":\"" + expiry + "\"";
    return "echo '{\"apiVersion\":\"" + version + "\",\"kind\":\"ExecCredential\",\"status\":{" + status + "}}'";
  }
  int runs() const {
    const std::string s = read_file(dir_ / "runs");
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  }
  ExecConfig config(const std::string& command) {
    ExecConfig c;
    c.command = command;
    return c;
  }

  TempDir dir_;
};

}  // namespace

TEST_F(ExecPlugin, TheTokenIsCachedUntilItsExpiry) {
  auto far = exec_credentials(config(plugin(answer("tok", "2999-01-01T00:00:00Z"))));  // past the clock's range
  fetch_now(*far);
  fetch_now(*far);
  EXPECT_EQ(runs(), 1);
  std::filesystem::remove(dir_ / "runs");
  auto source = exec_credentials(config(plugin(answer("tok", "2200-01-01T00:00:00Z"))));
  EXPECT_EQ(authorization(fetch_now(*source)), "Bearer tok");
  EXPECT_EQ(authorization(fetch_now(*source)), "Bearer tok");
  EXPECT_EQ(runs(), 1);
}

TEST_F(ExecPlugin, AnExpiredTokenRunsThePluginAgain) {
  auto source = exec_credentials(config(plugin(answer("old", "2000-01-01T00:00:00Z"))));
  fetch_now(*source);
  fetch_now(*source);
  EXPECT_EQ(runs(), 2);
}

TEST_F(ExecPlugin, ExpiryIsJudgedByTheClock) {
  auto now = std::make_shared<std::chrono::system_clock::time_point>(std::chrono::system_clock::from_time_t(1700000000));
  ExecConfig c = config(plugin(answer("t", "2023-11-14T22:23:20Z")));  // 1700000600: ten minutes on
  c.clock = [now] { return *now; };
  auto source = exec_credentials(c);
  fetch_now(*source);
  *now += 9min;
  fetch_now(*source);
  EXPECT_EQ(runs(), 1);
  *now += 1min;  // at the expiry: expired
  fetch_now(*source);
  EXPECT_EQ(runs(), 2);
}

TEST_F(ExecPlugin, ATokenWithoutExpiryIsKeptUntilRejected) {
  const std::string counter = dir_ / "runs";
  // Each run answers a new token: tok-1, tok-2...
  auto source = exec_credentials(config(plugin(
      "n=$(wc -l < '" + counter + "'); echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"tok-'$n'\"}}'")));
  const auto first = fetch_now(*source);
  EXPECT_EQ(authorization(first), "Bearer tok-1");
  EXPECT_EQ(authorization(fetch_now(*source)), "Bearer tok-1");
  const auto second = fetch_now(*source, *first);  // a 401 to the current token
  EXPECT_EQ(authorization(second), "Bearer tok-2");
  EXPECT_EQ(authorization(fetch_now(*source, *first)), "Bearer tok-2") << "a stale rejection does not run it again";
  EXPECT_EQ(runs(), 2);
}

TEST_F(ExecPlugin, ConcurrentFetchesWaitForOneRun) {
  auto source = exec_credentials(config(plugin("sleep 0.5\n" + answer("shared"))));
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { got[i] = authorization(fetch_now(*source)); });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, "Bearer shared");
  EXPECT_EQ(runs(), 1);
}

TEST_F(ExecPlugin, FetchReturnsAtOnceAndCompletesFromAnotherThread) {
  auto source = exec_credentials(config(plugin("sleep 1\n" + answer("late"))));
  auto promise = std::make_shared<std::promise<std::thread::id>>();
  const auto began = std::chrono::steady_clock::now();
  source->fetch(std::nullopt, [promise](Result<Credential>) { promise->set_value(std::this_thread::get_id()); });
  EXPECT_LT(std::chrono::steady_clock::now() - began, 300ms) << "fetch blocked on the plugin";
  auto done_on = promise->get_future();
  ASSERT_EQ(done_on.wait_for(10s), std::future_status::ready);
  EXPECT_NE(done_on.get(), std::this_thread::get_id());
}

TEST_F(ExecPlugin, ANonZeroExitQuotesTheLastStderrLineNeverTheToken) {
  auto source = exec_credentials(config(plugin(answer("leaked") + "\necho 'warming up' >&2\necho 'token expired, run aws sso login' >&2\nexit 3")));
  const auto r = fetch_now(*source);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::credentials_failed);
  const std::string what = r.error().message();
  EXPECT_NE(what.find("exec plugin \"" + (dir_ / "plugin") + "\": exited with status 3: token expired, run aws sso login"),
            std::string::npos) << what;
  EXPECT_EQ(what.find("leaked"), std::string::npos);
  EXPECT_EQ(what.find("warming up"), std::string::npos) << "only the last line";
}

TEST_F(ExecPlugin, OutputThatIsNotAnExecCredentialIsAnError) {
  auto bad_json = exec_credentials(config(plugin("echo '{\"token\": secret-ish'")));
  const auto r = fetch_now(*bad_json);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("its output is not JSON"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find("secret-ish"), std::string::npos);

  auto wrong_version = exec_credentials(config(plugin(answer("t", "", "client.authentication.k8s.io/v1beta1"))));
  EXPECT_NE(fetch_now(*wrong_version).error().message().find("configured for \"client.authentication.k8s.io/v1\""),
            std::string::npos);

  auto no_token = exec_credentials(config(plugin(
      "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}'")));
  EXPECT_NE(fetch_now(*no_token).error().message().find("no status.token"), std::string::npos);

  auto bad_time = exec_credentials(config(plugin(answer("t", "tomorrow"))));
  EXPECT_NE(fetch_now(*bad_time).error().message().find("expirationTimestamp is not an RFC 3339 time"), std::string::npos);
}

TEST_F(ExecPlugin, AClientCertificateAnswerIsRefusedExplicitly) {
  auto source = exec_credentials(config(plugin(
      "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"clientCertificateData\":\"C\",\"clientKeyData\":\"K\"}}'")));
  const auto r = fetch_now(*source);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("returned a client certificate; rebound supports only tokens"), std::string::npos);
}

TEST_F(ExecPlugin, AMissingCommandNamesItAndTheInstallHint) {
  ExecConfig c = config("rebound-no-such-plugin");
  c.install_hint = "install it with: apt install rebound-plugin";
  const auto r = fetch_now(*exec_credentials(c));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(
                "exec plugin \"rebound-no-such-plugin\": executable not found (install it with: apt install rebound-plugin)"),
            std::string::npos) << r.error().message();
}

TEST_F(ExecPlugin, ARunPastTheTimeoutIsKilledWithWhatItStarted) {
  const std::string child_pid = dir_ / "child.pid";
  ExecConfig c = config(plugin("sleep 60 & echo $! > '" + child_pid + "'\necho 'waiting for browser login' >&2\nwait"));
  c.timeout = 500ms;
  const auto began = std::chrono::steady_clock::now();
  const auto r = fetch_now(*exec_credentials(c));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("did not finish within 500 ms; killed: waiting for browser login"), std::string::npos)
      << r.error().message();
  const std::string pid = read_file(child_pid).substr(0, read_file(child_pid).find('\n'));
  // Gone, or a zombie waiting for a reaper (a container's init may not reap).
  const auto dead = [&] {
    const std::string stat = read_file("/proc/" + pid + "/stat");
    const auto paren = stat.rfind(')');
    return stat.empty() || (paren != std::string::npos && stat.substr(paren + 2, 1) == "Z");
  };
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = dead();
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "the plugin's own child survived the timeout";
}

TEST_F(ExecPlugin, AFailedRunIsNotCached) {
  const std::string flag = dir_ / "ok";
  auto source = exec_credentials(config(plugin("[ -f '" + flag + "' ] || { echo 'not yet' >&2; exit 1; }\n" + answer("now"))));
  EXPECT_FALSE(fetch_now(*source));
  dir_.write("ok", "");
  EXPECT_EQ(authorization(fetch_now(*source)), "Bearer now");
  EXPECT_EQ(runs(), 2);
}

TEST_F(ExecPlugin, TheConfiguredEnvironmentIsAddedToThisProcesses) {
  ScopedEnv env;
  env.set("REBOUND_FROM_PARENT", "parent");
  env.set("REBOUND_REPLACED", "old");
  ExecConfig c = config(plugin("echo \"$REBOUND_FROM_PARENT $REBOUND_REPLACED\" > '" + (dir_ / "env") + "'\n" + answer("t")));
  c.env = {{"REBOUND_REPLACED", "new"}};
  fetch_now(*exec_credentials(c));
  EXPECT_EQ(read_file(dir_ / "env"), "parent new\n");
}

TEST_F(ExecPlugin, ThePluginInheritsNoSocketOfTheClient) {
  // A socket the client holds (made without close-on-exec, as Asio makes
  // them) must not leak into the plugin, which could keep a connection open
  // past its end, or read from it.
  const int leaked = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(leaked, 0);
  ExecConfig c = config(plugin("ls -l /proc/$$/fd | grep -c socket: > '" + (dir_ / "sockets") + "'\n" + answer("t")));
  fetch_now(*exec_credentials(c));
  ::close(leaked);
  EXPECT_EQ(read_file(dir_ / "sockets"), "0\n") << "sockets the plugin inherited";
}

TEST_F(ExecPlugin, DestroyingTheSourceEndsARunAndAnswersItsWaiters) {
  ExecConfig c = config(plugin("sleep 30\n" + answer("never")));
  auto source = exec_credentials(c);
  auto promise = std::make_shared<std::promise<Result<Credential>>>();
  source->fetch(std::nullopt, [promise](Result<Credential> r) { promise->set_value(std::move(r)); });
  std::this_thread::sleep_for(100ms);
  source.reset();
  auto f = promise->get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  const auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::credentials_failed);
}

TEST_F(ExecPlugin, UnsupportedConfigurationIsRefusedWhenMade) {
  EXPECT_THROW(exec_credentials(config("")), std::invalid_argument);
  ExecConfig c = config("/bin/true");
  c.api_version = "client.authentication.k8s.io/v1alpha1";
  EXPECT_THROW(exec_credentials(c), std::invalid_argument);
}
