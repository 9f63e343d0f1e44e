// The exec plugin's CredentialSource: a cached token, one plugin run at a
// time on a thread of its own, every fetch meanwhile waiting for that run.
#include <rebound/kube/exec_credentials.hpp>

#include "exec/exec_credential_json.hpp"
#include "exec/plugin_process.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace rebound::kube {
namespace {

using Done = std::function<void(Result<Credential>)>;

// What the run thread and the source share; the thread keeps it alive.
struct State {
  ExecConfig config;
  std::vector<std::string> env;  // computed once: environ + config.env + KUBERNETES_EXEC_INFO
  std::atomic<bool> abandoned{false};

  std::mutex mutex;
  std::optional<Credential> cached;  // guarded by mutex
  std::optional<std::chrono::system_clock::time_point> expiry;
  bool running = false;
  std::vector<Done> waiters;

  std::chrono::system_clock::time_point now() const {
    return config.clock ? config.clock() : std::chrono::system_clock::now();
  }
  bool fresh() const { return cached && (!expiry || now() < *expiry); }
};

std::vector<std::string> plugin_environment(const ExecConfig& c) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : c.env) vars[k] = v;
  vars["KUBERNETES_EXEC_INFO"] = detail::exec_info_json(c);
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::string describe(const ExecConfig& c) { return "exec plugin \"" + c.command + "\""; }

Error failure(const ExecConfig& c, const std::string& why) {
  return Error(errc::credentials_failed, describe(c) + ": " + why);
}

// One run of the plugin, its outcome as a credential or an error.
Result<Credential> run_once(State& s, std::optional<std::chrono::system_clock::time_point>& expiry) {
  const ExecConfig& c = s.config;
  detail::PluginRun run = detail::run_plugin(c.command, c.args, s.env, c.timeout, s.abandoned);
  const std::string err_line = detail::last_line(run.err);
  const std::string stderr_note = err_line.empty() ? "" : ": " + err_line;
  using O = detail::PluginRun::Outcome;
  switch (run.outcome) {
    case O::not_found:
      return failure(c, "executable not found" + (c.install_hint.empty() ? "" : " (" + c.install_hint + ")"));
    case O::spawn_failed:
      return failure(c, "could not be started: " + run.error);
    case O::timed_out:
      return failure(c, "did not finish within " + std::to_string(c.timeout.count()) + " ms; killed" + stderr_note);
    case O::abandoned:
      return failure(c, "the credential source was destroyed while the plugin ran");
    case O::signalled:
      return failure(c, "killed by signal " + std::to_string(run.status) + stderr_note);
    case O::exited:
      break;
  }
  if (run.status != 0) return failure(c, "exited with status " + std::to_string(run.status) + stderr_note);
  detail::ExecAnswer answer = detail::parse_exec_answer(run.out, c.api_version);
  if (!answer.error.empty()) return failure(c, answer.error);
  expiry = answer.expiry;
  return Credential{{{"authorization", "Bearer " + answer.token}}};
}

void run_and_complete(const std::shared_ptr<State>& s) {
  std::optional<std::chrono::system_clock::time_point> expiry;
  Result<Credential> result = run_once(*s, expiry);
  std::vector<Done> waiters;
  {
    std::lock_guard lock(s->mutex);
    if (result) {
      s->cached = *result;
      s->expiry = expiry;
    }
    s->running = false;
    waiters.swap(s->waiters);
  }
  for (auto& done : waiters) done(result);  // outside the lock: callbacks may fetch again
}

class ExecSource final : public CredentialSource {
 public:
  explicit ExecSource(ExecConfig config) : state_(std::make_shared<State>()) {
    state_->config = std::move(config);
    state_->env = plugin_environment(state_->config);
  }
  ~ExecSource() override { state_->abandoned = true; }

  void fetch(const std::optional<Credential>& rejected, Done done) override {
    std::unique_lock lock(state_->mutex);
    State& s = *state_;
    // A rejection of what we still hold: the plugin must run again.
    if (rejected && s.cached && *rejected == *s.cached) s.cached.reset();
    if (!s.running && s.fresh()) {
      Credential c = *s.cached;
      lock.unlock();
      done(std::move(c));
      return;
    }
    s.waiters.push_back(std::move(done));
    if (s.running) return;  // the run in flight answers everyone
    s.running = true;
    lock.unlock();
    try {
      std::thread([st = state_] { run_and_complete(st); }).detach();
    } catch (const std::system_error& e) {
      std::vector<Done> waiters;
      {
        std::lock_guard relock(s.mutex);
        s.running = false;
        waiters.swap(s.waiters);
      }
      for (auto& d : waiters) d(failure(s.config, std::string("no thread to run it on: ") + e.what()));
    }
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace

std::shared_ptr<CredentialSource> exec_credentials(ExecConfig config) {
  if (config.command.empty()) throw std::invalid_argument("exec plugin: the command is empty");
  if (config.api_version != "client.authentication.k8s.io/v1" &&
      config.api_version != "client.authentication.k8s.io/v1beta1")
    throw std::invalid_argument("exec plugin: apiVersion \"" + config.api_version + "\" is not supported");
  return std::make_shared<ExecSource>(std::move(config));
}

}  // namespace rebound::kube
