// `rebound elect (--server URL | --kubeconfig F [--context C] | --in-cluster)
//  --lease [NS/]NAME [--identity ID] -- CMD ARGS...`, or
// `rebound elect --etcd URL[,URL...] --lease KEY [--cacert/--cert/--key] -- CMD`:
// leader election over a Lease, or over an etcd key, from the command line. Prints every
// election event (text, or one JSON object per line with --json, with
// valid_until on acquisitions and renewals); with a command, runs it only
// while this process leads. The command is run and signalled by a watchdog
// process (elect/watchdog.hpp) that holds the leadership bound itself, so
// a paused, stopped or killed elect cannot leave it running: SIGTERM at
// the bound (or when leadership ends), SIGKILL after --grace, which fits in
// the safety margin; every process of the command goes (cgroup or
// subreaper containment). When the command exits by itself, or cannot
// start, the lease is released and elect exits with its status.
#include "common.hpp"
#include "elect/command_terms.hpp"
#include "elect/line_printer.hpp"
#include "elect/watchdog_link.hpp"
#include "duration.hpp"

#include <rebound/kube/in_cluster.hpp>
#include <rebound/election/leader_elector.hpp>
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
  std::string etcd;   // URL[,URL...]: etcd members instead of a Lease API server
  std::string lease;  // NAMESPACE/NAME, or the etcd key
  std::string identity;
  bool exact_identity = false;
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  std::string safety_margin;  // "": the library's default, lease duration - renew deadline
  std::string grace;          // "": min(5s, safety margin - slack)
  std::string containment = "auto";
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

// One printer for every thread; it never blocks (elect/line_printer.hpp).
class Printer {
 public:
  explicit Printer(bool json)
      : json_(json), out_(STDOUT_FILENO, 10'000, [json](std::size_t n) {
          const std::string what = std::to_string(n) + " lines dropped: standard output was not read";
          return json ? boost::json::serialize(boost::json::object{{"event", "output_dropped"}, {"lines", n}})
                      : wall_text(std::chrono::system_clock::now()) + " " + what;
        }) {}

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
  void line(std::string s) { out_.line(std::move(s)); }
  const bool json_;
  elect::LinePrinter out_;

 public:
  void flush(std::chrono::milliseconds bound) { out_.flush(bound); }
};

// Leadership and the command's stop: the margin is the time between the
// end of our leadership (valid_until) and the earliest takeover; the slack
// covers the watchdog's own lateness and the kill's delivery.
constexpr std::chrono::milliseconds kill_slack{500};
constexpr std::chrono::milliseconds default_grace{5000};

elect::ContainmentChoice containment_choice(const std::string& v) {
  if (v == "auto") return elect::ContainmentChoice::automatic;
  if (v == "cgroup") return elect::ContainmentChoice::cgroup;
  return elect::ContainmentChoice::subreaper;
}

// "a,b,,c" -> {"a", "b", "c"}
std::vector<std::string> comma_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The etcd lock backend: `--lease` names the key, whole; the members are
// tried in the order given, moving on when one does not answer.
lease::LeaderElectionConfig etcd_config(const ElectFlags& f, const ClientSetup& setup) {
  if (!f.server.empty() || setup.cluster)
    throw CLI::ValidationError("--etcd", "give either --etcd or one of --server, --kubeconfig, --in-cluster");
  if (f.lease.empty()) throw CLI::ValidationError("--lease", "the etcd key is empty");
  lease::LeaderElectionConfig cfg;
  cfg.etcd_endpoints = comma_list(f.etcd);
  if (cfg.etcd_endpoints.empty()) throw CLI::ValidationError("--etcd", "no URL given");
  cfg.name = f.lease;
  return cfg;
}

int run(const ElectFlags& f) {
  const ClientSetup setup = f.client.setup();
  const bool on_etcd = !f.etcd.empty();
  if (!on_etcd && f.server.empty() == !setup.cluster)
    throw CLI::ValidationError("--server", "give one of --server URL, --kubeconfig F / --context C, or --in-cluster");
  // NAMESPACE/NAME, or NAME in the context's (or the pod's) namespace.
  const auto slash = on_etcd ? std::string::npos : f.lease.find('/');
  if ((!on_etcd && f.lease.empty()) || slash == 0 || (slash != std::string::npos && slash + 1 == f.lease.size()) ||
      (slash != std::string::npos && f.lease.find('/', slash + 1) != std::string::npos))
    throw CLI::ValidationError("--lease", "expected NAMESPACE/NAME or NAME, got '" + f.lease + "'");

  lease::LeaderElectionConfig cfg;
  if (on_etcd) cfg = etcd_config(f, setup);
  else if (setup.cluster) cfg = lease::LeaderElectionConfig::from(*setup.cluster, "", "");
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
  if (!f.safety_margin.empty()) cfg.safety_margin = duration_or_throw("--safety-margin", f.safety_margin);
  if (auto why = cfg.validate(); !why.empty()) throw CLI::ValidationError("timings", why);
  const auto duration = duration_or_throw("--duration", f.duration);
  const bool has_command = !f.command.empty();

  // The grace must end before anyone may take over: within the margin.
  const auto margin = cfg.safety_margin.value_or(cfg.lease_duration - cfg.renew_deadline);
  const auto kill_bound = margin - kill_slack;
  auto grace = std::min(default_grace, kill_bound);
  if (!f.grace.empty()) grace = duration_or_throw("--grace", f.grace);
  if (has_command && kill_bound.count() < 0)
    throw CLI::ValidationError("--safety-margin", "the safety margin (" + std::to_string(margin.count()) +
                                                      " ms) leaves the command no time to stop: it must be at least " +
                                                      std::to_string(kill_slack.count()) + " ms");
  if (has_command && grace > kill_bound)
    throw CLI::ValidationError("--grace", std::to_string(grace.count()) + " ms is longer than the safety margin (" +
                                              std::to_string(margin.count()) + " ms) less " +
                                              std::to_string(kill_slack.count()) +
                                              " ms: the command could run after another candidate took over; "
                                              "lower --grace or raise --safety-margin (or the lease duration)");

  // Declared so that each outlives what uses it: the watchdog's reader
  // thread reports to the terms, which print.
  std::optional<Printer> out;
  std::optional<elect::CommandTerms> terms;
  // The watchdog is forked first, while this process has one thread.
  std::optional<elect::WatchdogLink> watchdog;
  if (has_command) {
    try {
      watchdog.emplace(elect::WatchdogConfig{.argv = f.command,
                                             .stdout_to_stderr = f.json,
                                             .grace = grace,
                                             .kill_bound = kill_bound,
                                             .containment = containment_choice(f.containment)});
    } catch (const std::runtime_error& e) {
      throw CLI::ValidationError("--containment", e.what());
    }
  }
  out.emplace(f.json);
  // Set once the elector made it unique, before start(): the callbacks that
  // read it run only after that (thread start orders the two).
  std::string identity;
  if (watchdog)
    terms.emplace(*watchdog, cfg.retry_period,
                  [&](const std::string& event, boost::json::object fields, const std::string& text) {
                    out->command(event, identity, std::move(fields), text);
                  });
  const auto stop_bound = grace + std::chrono::seconds(2);
  lease::LeaderElector* elector_ptr = nullptr;
  cfg.on_event = [&](const lease::ElectionEvent& e) { out->event(e); };
  if (terms) {
    cfg.on_started_leading = [&] { terms->wake(); };
    // The lease is released after this returns: the command must be gone,
    // unless a new leadership already covers it.
    cfg.on_stopped_leading = [&] { terms->stop(stop_bound, [&] { return elector_ptr->is_leader(); }); };
  }

  lease::LeaderElector elector(cfg);
  elector_ptr = &elector;
  identity = elector.identity();
  if (watchdog) {
    out->command("containment", identity,
                {{"mode", elect::to_string(watchdog->mode())}, {"detail", watchdog->detail()}},
                std::string(elect::to_string(watchdog->mode())) + " (" + watchdog->detail() + ")");
    watchdog->start_reading([&](const std::optional<elect::Report>& r) { terms->on_report(r); });
  }
  std::signal(SIGPIPE, SIG_IGN);  // a reader gone from our stdout is no reason to stop leading
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, [](int) { interrupted = 1; });
  elector.start();

  const auto began = std::chrono::steady_clock::now();
  while (!interrupted && (duration.count() == 0 || std::chrono::steady_clock::now() - began < duration)) {
    if (!terms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    terms->tick(elector.is_leader(), elector.valid_until());
    if (terms->final_status()) break;
    terms->wait(std::chrono::milliseconds(20));
  }
  // The command first, while the lease is still ours; then the election,
  // which releases the lease once nothing of the command is left.
  if (terms) terms->stop(stop_bound);
  elector.stop();
  if (terms) {
    terms->closing();
    watchdog->close(std::chrono::seconds(5));
  }
  out->flush(std::chrono::seconds(1));
  return terms ? terms->final_status().value_or(0) : 0;
}

}  // namespace

void add_elect(CLI::App& root) {
  auto flags = std::make_shared<ElectFlags>();
  CLI::App* app = root.add_subcommand(
      "elect", "Leader election over a Kubernetes Lease or an etcd key; runs a command only while this process leads");
  app->add_option("--server", flags->server,
                  "API server URL, e.g. https://127.0.0.1:6443 (rebound serve --leases); or use --kubeconfig, "
                  "--context or --in-cluster");
  app->add_option("--etcd", flags->etcd,
                  "Elect on etcd instead: client URLs of its members, comma-separated (http:// or https://; "
                  "--cacert, --cert and --key for TLS); the first that answers is used");
  app->add_option("--lease", flags->lease,
                  "The Lease to hold, NAMESPACE/NAME, or NAME in the context's namespace (in-cluster: the pod's; "
                  "else default); with --etcd, the key")
      ->required();
  app->add_option("--identity", flags->identity, "This candidate's identity (default: the host name), made unique with a random suffix");
  app->add_flag("--exact-identity", flags->exact_identity,
                "Use --identity as it is, without the random suffix (it must then be unique)");
  add_duration(*app, "--lease-duration", flags->lease_duration, "How long others wait before taking over a lease that is not renewed");
  add_duration(*app, "--renew-deadline", flags->renew_deadline, "A leader that has not renewed within this gives up");
  add_duration(*app, "--retry-period", flags->retry_period, "Time between attempts (renewals, and candidates' tries)");
  add_duration(*app, "--safety-margin", flags->safety_margin,
               "Leadership ends this long before others may take over: the command's time to stop (default: "
               "lease duration - renew deadline)");
  app->add_option("--grace", flags->grace,
                  "After SIGTERM, how long the command has before SIGKILL (default: min(5s, safety margin - "
                  "500ms); more is refused)")
      ->check([](const std::string& v) {
        return parse_duration(v) ? std::string() : "expected a duration like 200ms, 2s or 1m, got \"" + v + "\"";
      });
  app->add_option("--containment", flags->containment,
                  "How every process of the command is reached: cgroup (a cgroup v2 group, killed with "
                  "cgroup.kill), subreaper (its descendants in /proc), or auto (cgroup where one can be made)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cgroup", "subreaper"}));
  add_duration(*app, "--duration", flags->duration, "Stop after this long (0: until interrupted or the command exits)");
  app->add_option("--token", flags->token, "Bearer token for the API server");
  app->add_flag("--json", flags->json, "One JSON object per event (valid_until on acquired and renewed)");
  flags->client.add_to(*app);
  flags->client.add_in_cluster_flag(*app);
  app->add_option("command", flags->command, "The command to run while leading (after --)");
  app->footer(
      "The command is run by a watchdog process that holds the leadership bound: SIGTERM when leadership ends\n"
      "(or elect is paused past it, stopped, or killed), SIGKILL after --grace, to every process it started;\n"
      "with --json its standard output goes to standard error. SIGINT, SIGTERM and SIGHUP stop the command,\n"
      "then release the lease.\n"
      "Exit status: the command's when it exited by itself; 127 (not found) or 126 when it could not start;\n"
      "0 when stopped by a signal or --duration; 105-109 on bad flags (CLI11);\n"
      "2 when the kubeconfig or in-cluster config cannot be used (one line naming the file and key; nothing was run).");
  app->callback([flags] { throw CLI::RuntimeError(with_config_errors("elect", [&] { return run(*flags); })); });
}

}  // namespace rebound::cli
