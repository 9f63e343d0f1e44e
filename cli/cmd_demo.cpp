// `rebound demo`: the incident of ORIGIN.md replayed on loopback. A Lease
// API server (rebound serve, h2 over TLS) runs in a child process; two
// candidates elect a leader through it; the server is SIGKILLed and
// restarted several times and stopped gracefully once while the leader
// renews; finally the leader dies and the standby takes over. Exits 0 only
// when the leader kept its lease through every outage, there was never more
// than one holder, and the takeover was timely. Between steps the demo
// waits for what it needs to see (the standby has seen the lease held, the
// leader has renewed on the restarted server), never a fixed time, except
// the outages themselves. With --leases-file the server's own record (its
// leases and holder history, see lease_store.hpp) is kept for inspection.
// With --backend etcd the story runs on an etcd cluster (demo/etcd_demo.hpp).
#include "child_process.hpp"
#include "common.hpp"
#include "demo/candidate.hpp"
#include "demo/etcd_demo.hpp"
#include "demo/timeline.hpp"

#include <rebound/election/leader_elector.hpp>
#include <rebound/endpoint_group.hpp>
#include <rebound/server/server.hpp>

#include <boost/json.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

namespace rebound::cli {
namespace {

using namespace std::chrono_literals;
using demo::Candidate;
using demo::Mark;
using demo::Timeline;

struct DemoFlags {
  bool json = false;
  std::string svg;
  int kills = 3;
  bool verbose = false;
  std::string leases_file;  ///< empty: a file in the temporary directory
  std::string backend = "lease";
  std::string endpoints;  ///< etcd: URL,URL,... of a running cluster
};

// Short timings so the story fits in well under a minute. Jitter is off so
// the takeover bound (lease duration + retry period) is exact.
constexpr auto lease_duration = 4000ms;
constexpr auto renew_deadline = 3000ms;
constexpr auto retry_period = 500ms;
constexpr auto outage = 1000ms;  // shorter than the renew deadline: the leader must keep its lease

class LeaseServer {
 public:
  LeaseServer(std::string dir, std::string leases_file, Timeline& tl)
      : dir_(std::move(dir)), leases_file_(std::move(leases_file)), tl_(tl) {
    server::write_self_signed_certificate(dir_ + "/cert.pem", dir_ + "/key.pem");
  }
  void start(const std::string& port = "0") {
    child_.emplace("/proc/self/exe", std::vector<std::string>{"serve", "--tls", "--port", port, "--cert", dir_ + "/cert.pem", "--key",
                                            dir_ + "/key.pem", "--leases-file", leases_file_});
    url_ = child_->first_line();
    tl_.add("server", "up", url_ + " (pid of a new process)", Mark::up);
  }
  void restart() { start(url_.substr(url_.rfind(':') + 1)); }
  void kill() {
    child_->kill();
    tl_.add("server", "killed", "SIGKILL: no GOAWAY, no FIN from the application", Mark::down);
  }
  void graceful_stop() {
    tl_.add("server", "stopping", "SIGTERM: GOAWAY, in-flight requests finish", Mark::down);
    child_->terminate();
    tl_.add("server", "stopped", "process exited", Mark::info);
  }
  void shutdown() { child_.reset(); }
  const std::string& url() const { return url_; }
  std::string ca_file() const { return dir_ + "/cert.pem"; }

 private:
  std::string dir_;
  std::string leases_file_;
  Timeline& tl_;
  std::optional<process::ChildProcess> child_;
  std::string url_;
};

lease::LeaderElectionConfig candidate_config(const LeaseServer& server, Candidate& c, Timeline& tl, bool verbose) {
  lease::LeaderElectionConfig cfg;
  cfg.base_url = server.url();
  cfg.name = "demo-controller";
  cfg.identity = c.name;
  cfg.unique_identity = false;  // two names unique by construction, shown in the timeline
  cfg.lease_duration = lease_duration;
  cfg.renew_deadline = renew_deadline;
  cfg.retry_period = retry_period;
  cfg.jitter_factor = 0;
  cfg.client_options.tls.ca_file = server.ca_file();
  cfg.client_options.connect_timeout = 500ms;
  cfg.client_options.read_idle_timeout = 1s;
  cfg.client_options.ping_timeout = 1s;
  cfg.client_options.on_event = [&tl, &c, verbose](const Event& e) {
    switch (e.kind) {
      case EventKind::dial_done:
        tl.add(c.name, "connected", "conn #" + std::to_string(e.connection) + " " + to_string(e.protocol), Mark::info);
        break;
      case EventKind::connection_closed:
        tl.add(c.name, "conn closed", "conn #" + std::to_string(e.connection) + ": " + error_kind(e.error), Mark::info);
        break;
      case EventKind::goaway:
      case EventKind::retry:
        tl.add(c.name, to_string(e.kind), e.detail, Mark::info);
        break;
      case EventKind::dial_failed:
        if (verbose) tl.add(c.name, "dial failed", error_kind(e.error), Mark::info);
        break;
      default:
        break;
    }
  };
  cfg.on_event = [&tl, &c](const lease::ElectionEvent& e) { c.on_event(tl, e); };
  return cfg;
}

int run(const DemoFlags& f) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/rebound-demo-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("cannot create a temporary directory");
  const std::string dir = tmpl;
  Timeline tl(f.json ? nullptr : &std::cout, !f.verbose);
  if (!f.json)
    std::cout << "rebound demo: leader election over a Lease API while the API server is killed and restarted\n"
              << "lease " << lease_duration.count() << " ms, renew deadline " << renew_deadline.count()
              << " ms, retry " << retry_period.count() << " ms, outages " << outage.count() << " ms\n\n";

  LeaseServer server(dir, f.leases_file.empty() ? dir + "/leases.json" : f.leases_file, tl);
  server.start();
  Candidate a{"candidate-a", f.verbose}, b{"candidate-b", f.verbose};
  auto cfg_a = candidate_config(server, a, tl, f.verbose);
  cfg_a.release_on_cancel = false;  // it will die like a crashed process: no goodbye
  lease::LeaderElector elector_a(cfg_a);
  lease::LeaderElector elector_b(candidate_config(server, b, tl, f.verbose));

  // After a restart the leader shows it is back by renewing twice on the new
  // server: the first renewal redials, the second runs on the new connection.
  // A leader that lost its lease never renews again: then the wait ends at
  // the renew deadline (and a little) and the verdict says so.
  const auto leader_back = [&a](int renewals_before) {
    a.wait_renewals(renewals_before, 2, renew_deadline + 2 * retry_period + 1s);
  };

  elector_a.start();
  const bool a_led = a.wait_leading(true, 5s);
  elector_b.start();
  b.wait_found_held(5s);  // b is a standby now

  for (int i = 0; i < f.kills; ++i) {
    server.kill();
    std::this_thread::sleep_for(outage);  // the outage itself
    const int renewals_before = a.renewals_so_far();
    server.restart();
    leader_back(renewals_before);
  }
  server.graceful_stop();
  std::this_thread::sleep_for(outage / 2);  // the outage itself
  const int renewals_before = a.renewals_so_far();
  server.restart();
  leader_back(renewals_before);

  const double a_stopped_at = tl.now();
  tl.add("candidate-a", "dies", "the leader stops without releasing the lease", Mark::info);
  elector_a.stop();
  const bool b_led = b.wait_leading(true, lease_duration + retry_period + 3s);
  const double takeover = b_led ? b.terms.front().first - a_stopped_at : -1;
  if (b_led) b.wait_renewals(b.renewals_so_far(), 1, renew_deadline);  // b holds it
  elector_b.stop();  // releases
  server.shutdown();
  tl.add("server", "down", "demo over", Mark::down);

  // --- verdict ---
  const int outages_survived = a_led && a.losses == 0 && a.acquisitions == 1 ? f.kills + 1 : 0;
  bool overlap = false;
  for (const auto& [as, ae] : a.terms)
    for (const auto& [bs, be] : b.terms)
      if (as < (be < 0 ? 1e9 : be) && bs < (ae < 0 ? 1e9 : ae)) overlap = true;
  const double bound = std::chrono::duration<double>(lease_duration + retry_period).count() + 0.25;
  const bool leader_kept = a_led && a.losses == 0 && a.acquisitions == 1;
  const bool timely = b_led && takeover <= bound;
  const bool ok = leader_kept && !overlap && timely && b.acquisitions == 1;

  boost::json::object v;
  v["ok"] = ok;
  v["leader_kept_lease_through_outages"] = leader_kept;
  v["abrupt_restarts"] = f.kills;
  v["graceful_restarts"] = 1;
  v["outages_survived"] = outages_survived;
  v["leader_renewals"] = a.renewals;
  v["leader_failed_attempts"] = a.failures;
  v["max_simultaneous_holders"] = overlap ? 2 : 1;
  v["takeovers"] = b.acquisitions;
  v["takeover_seconds"] = takeover;
  v["takeover_bound_seconds"] = bound;
  const std::string verdict = boost::json::serialize(v);

  if (!f.svg.empty()) {
    std::ofstream out(f.svg);
    out << tl.to_svg({"server", "candidate-a", "candidate-b"}, std::string("rebound demo: ") + (ok ? "PASS" : "FAIL"),
                     "blue: holds the lease \u00b7 green: renewal \u00b7 red: failed attempt \u00b7 pink: server down");
  }
  if (f.json) {
    std::cout << tl.to_json(verdict) << std::endl;
  } else {
    std::cout << "\nverdict: " << (ok ? "PASS" : "FAIL") << "\n"
              << "  leader kept its lease through " << f.kills << " SIGKILL restarts and 1 graceful restart: "
              << (leader_kept ? "yes" : "NO") << " (" << a.renewals << " renewals, " << a.failures
              << " failed attempts during outages)\n"
              << "  never more than one holder: " << (!overlap ? "yes" : "NO") << "\n"
              << "  standby took over " << std::fixed << std::setprecision(2) << takeover
              << " s after the leader died (bound " << bound << " s): " << (timely ? "yes" : "NO") << "\n";
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return ok ? 0 : 1;
}

}  // namespace

void add_demo(CLI::App& root) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* app = root.add_subcommand(
      "demo", "Replay the incident: leader election while the API server is killed and restarted (about 15 s)");
  app->add_flag("--json", flags->json, "Print the timeline and verdict as one JSON object");
  app->add_option("--svg", flags->svg, "Draw the timeline into this SVG file");
  app->add_option("--kills", flags->kills, "SIGKILL restarts of the server (etcd: of the member the leader talks to)")->capture_default_str()->check(CLI::Range(1, 10));
  app->add_flag("-v,--verbose", flags->verbose, "Also show every renewal and dial failure");
  app->add_option("--leases-file", flags->leases_file,
                  "Keep the Lease server's store here and leave it after the demo: the leases and the holder "
                  "history the server itself recorded (default: a temporary file, removed)");
  app->add_option("--backend", flags->backend,
                  "lease: a Lease API server (rebound serve) on this machine; etcd: a 3-member etcd cluster, "
                  "the way past one machine (needs Debian's etcd-server, or --endpoints)")
      ->check(CLI::IsMember({"lease", "etcd"}))
      ->capture_default_str();
  app->add_option("--endpoints", flags->endpoints,
                  "--backend etcd: client URLs of a running cluster (URL,URL,...) instead of starting one; its "
                  "members are not killed");
  app->callback([flags] {
    if (flags->backend != "etcd") {
      if (!flags->endpoints.empty()) throw CLI::ValidationError("--endpoints", "only with --backend etcd");
      throw CLI::RuntimeError(run(*flags));
    }
    demo::EtcdDemoFlags e{flags->json, flags->svg, flags->kills, flags->verbose, split_endpoint_list(flags->endpoints)};
    throw CLI::RuntimeError(demo::run_etcd_demo(e));
  });
}

}  // namespace rebound::cli
