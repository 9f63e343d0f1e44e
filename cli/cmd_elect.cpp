// `rebound elect (--server URL | --kubeconfig F [--context C] | --in-cluster)
//  --lease [NS/]NAME [--identity ID] -- CMD ARGS...`:
// leader election over a Lease from the command line. Prints every
// election event (text, or one JSON object per line with --json, with
// valid_until on acquisitions and renewals); with a command, runs it only
// while this process leads: started on acquiring, stopped (SIGTERM to its
// group, SIGKILL after --grace) when leadership ends or expires - checked
// by the clock, so a process resumed after a pause stops it at once - and
// when it exits by itself the lease is released and its status is ours.
#include "common.hpp"
#include "elect/supervised_command.hpp"

#include <rebound/kube/in_cluster.hpp>
#include <rebound/lease/leader_elector.hpp>
#include <rebound/lease/lease.hpp>

#include <boost/json.hpp>

#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace rebound::cli {
namespace {

struct ElectFlags {
  std::string server;
  std::string lease;  // NAMESPACE/NAME
  std::string identity;
  bool exact_identity = false;
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  std::string grace = "5s";
  std::string duration = "0s";
  std::string token;
  bool json = false;
  ClientFlags client;
  std::vector<std::string> command;
};

volatile std::sig_atomic_t interrupted = 0;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "rebound";
  return buf;
}

std::string wall_text(std::chrono::system_clock::time_point t) {
  const auto micros = std::chrono::floor<std::chrono::microseconds>(t);
  return lease::format_micro_time(lease::MicroTime(micros.time_since_epoch()));
}

// One printer for the event thread and the main thread.
class Printer {
 public:
  explicit Printer(bool json) : json_(json) {}

  void event(const lease::ElectionEvent& e) {
    if (!json_) return line(to_string(e));
    boost::json::object o;
    o["time"] = wall_text(e.wall_time);
    o["identity"] = e.identity;
    o["event"] = lease::to_string(e.kind);
    o["holder"] = e.holder;
    o["resource_version"] = e.resource_version;
    if (e.http_status) o["status"] = e.http_status;
    if (!e.error_kind.empty()) o["error"] = e.error_kind;
    if (!e.message.empty()) o["message"] = e.message;
    o["took_ms"] = e.took.count();
    if (e.valid_until != std::chrono::steady_clock::time_point{}) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(e.valid_until - e.time);
      o["valid_until"] = wall_text(e.wall_time + left);
      o["valid_for_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
    }
    line(boost::json::serialize(o));
  }

  void command(const std::string& what, const std::string& identity, boost::json::object extra, const std::string& text) {
    if (!json_) return line(wall_text(std::chrono::system_clock::now()) + " " + identity + " " + what + " " + text);
    extra["time"] = wall_text(std::chrono::system_clock::now());
    extra["identity"] = identity;
    extra["event"] = what;
    line(boost::json::serialize(extra));
  }

 private:
  void line(const std::string& s) {
    std::lock_guard lock(mutex_);
    std::cout << s << std::endl;
  }
  const bool json_;
  std::mutex mutex_;
};

int run(const ElectFlags& f) {
  const ClientSetup setup = f.client.setup();
  if (f.server.empty() == !setup.cluster)
    throw CLI::ValidationError("--server", "give one of --server URL, --kubeconfig F / --context C, or --in-cluster");
  // NAMESPACE/NAME, or NAME in the context's (or the pod's) namespace.
  const auto slash = f.lease.find('/');
  if (f.lease.empty() || slash == 0 || (slash != std::string::npos && slash + 1 == f.lease.size()) ||
      (slash != std::string::npos && f.lease.find('/', slash + 1) != std::string::npos))
    throw CLI::ValidationError("--lease", "expected NAMESPACE/NAME or NAME, got '" + f.lease + "'");

  lease::LeaderElectionConfig cfg;
  if (setup.cluster) cfg = lease::LeaderElectionConfig::from(*setup.cluster, "", "");
  else cfg.base_url = f.server;
  if (f.client.in_cluster)  // the elector sends this token itself until the Client applies credentials
    cfg.bearer_token_file = std::string(kube::default_service_account_dir) + "/token";
  if (slash != std::string::npos) cfg.namespace_ = f.lease.substr(0, slash);
  cfg.name = slash == std::string::npos ? f.lease : f.lease.substr(slash + 1);
  cfg.identity = f.identity.empty() ? host_name() : f.identity;
  cfg.unique_identity = !f.exact_identity;
  cfg.lease_duration = duration_or_throw("--lease-duration", f.lease_duration);
  cfg.renew_deadline = duration_or_throw("--renew-deadline", f.renew_deadline);
  cfg.retry_period = duration_or_throw("--retry-period", f.retry_period);
  cfg.client_options = setup.options;
  cfg.bearer_token = f.token;
  // After a loss, a candidate again: the command runs again if we lead again.
  cfg.rejoin_after_loss = true;
  if (auto why = cfg.validate(); !why.empty()) throw CLI::ValidationError("timings", why);
  const auto grace = duration_or_throw("--grace", f.grace);
  const auto duration = duration_or_throw("--duration", f.duration);

  Printer out(f.json);
  elect::SupervisedCommand command(f.command, f.json);
  const bool has_command = !f.command.empty();
  // Set once the elector made it unique, before start(): the callbacks that
  // read it run only after that (thread start orders the two).
  std::string identity;
  auto stop_command = [&](const std::string& why) {
    if (auto status = command.stop(grace))
      out.command("command_stopped", identity, {{"why", why}, {"exit_status", *status}},
                  "(" + why + ", exit status " + std::to_string(*status) + ")");
  };
  cfg.on_event = [&](const lease::ElectionEvent& e) { out.event(e); };
  if (has_command) {
    // Both run on the elector's callback thread, which lives as long as the
    // elector: the command's parent-death signal is tied to it.
    cfg.on_started_leading = [&] {
      const pid_t pid = command.start();
      if (pid > 0)
        out.command("command_started", identity, {{"pid", pid}}, "pid " + std::to_string(pid));
      else
        out.command("command_failed", identity, {{"message", command.error()}}, command.error());
    };
    cfg.on_stopped_leading = [&] { stop_command("leadership ended"); };
  }

  lease::LeaderElector elector(cfg);
  identity = elector.identity();
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });
  elector.start();

  // The watchdog: leadership is a time bound, and this loop enforces it on
  // the command even when the election has not yet noticed (a process just
  // resumed from a pause) or a callback is slow.
  const auto began = std::chrono::steady_clock::now();
  std::optional<int> command_status;
  while (!interrupted && (duration.count() == 0 || std::chrono::steady_clock::now() - began < duration)) {
    if (has_command) {
      if (auto status = command.poll_exit()) {
        command_status = status;
        out.command("command_exited", identity, {{"exit_status", *status}}, "exit status " + std::to_string(*status));
        break;
      }
      if (command.running() && !elector.is_leader()) stop_command("leadership expired");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  elector.stop();  // on_stopped_leading stops the command, then the lease is released
  stop_command("rebound elect stopped");
  return command_status.value_or(0);
}

}  // namespace

void add_elect(CLI::App& root) {
  auto flags = std::make_shared<ElectFlags>();
  CLI::App* app = root.add_subcommand(
      "elect", "Leader election over a Kubernetes Lease; runs a command only while this process leads");
  app->add_option("--server", flags->server,
                  "API server URL, e.g. https://127.0.0.1:6443 (rebound serve --leases); or use --kubeconfig, "
                  "--context or --in-cluster");
  app->add_option("--lease", flags->lease,
                  "The Lease to hold, NAMESPACE/NAME, or NAME in the context's namespace (in-cluster: the pod's; "
                  "else default)")
      ->required();
  app->add_option("--identity", flags->identity, "This candidate's identity (default: the host name), made unique with a random suffix");
  app->add_flag("--exact-identity", flags->exact_identity,
                "Use --identity as it is, without the random suffix (it must then be unique)");
  add_duration(*app, "--lease-duration", flags->lease_duration, "How long others wait before taking over a lease that is not renewed");
  add_duration(*app, "--renew-deadline", flags->renew_deadline, "A leader that has not renewed within this gives up");
  add_duration(*app, "--retry-period", flags->retry_period, "Time between attempts (renewals, and candidates' tries)");
  add_duration(*app, "--grace", flags->grace, "After SIGTERM, how long the command has before SIGKILL");
  add_duration(*app, "--duration", flags->duration, "Stop after this long (0: until interrupted or the command exits)");
  app->add_option("--token", flags->token, "Bearer token for the API server");
  app->add_flag("--json", flags->json, "One JSON object per event (valid_until on acquired and renewed)");
  flags->client.add_to(*app);
  flags->client.add_in_cluster_flag(*app);
  app->add_option("command", flags->command, "The command to run while leading (after --)");
  app->footer(
      "The command runs in its own process group and dies with rebound elect (even on SIGKILL);\n"
      "with --json its standard output goes to standard error.\n"
      "Exit status: the command's when it exited by itself; 0 when stopped by a signal or --duration; 105-109 on bad flags (CLI11);\n"
      "2 when the kubeconfig or in-cluster config cannot be used (one line naming the file and key; nothing was run).");
  app->callback([flags] { throw CLI::RuntimeError(with_config_errors("elect", [&] { return run(*flags); })); });
}

}  // namespace rebound::cli
