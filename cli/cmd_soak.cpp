// `rebound soak`: the seeded chaos soak (issue #11 part 3). Many clients
// (HTTP/1.1 and HTTP/2, over TLS and h2c) send downloads, echoes, uploads
// and POSTs through fault proxies to embedded and child servers while a
// schedule drawn from the seed injects every fault the servers and proxies
// know; the invariants are checked as requests complete, continuously, and
// at the end. This file owns the flags and the order of the phases; the
// parts live in cli/soak/.
#include "common.hpp"
#include "soak/deadman.hpp"
#include "soak/injector.hpp"
#include "soak/ledger.hpp"
#include "soak/monitor.hpp"
#include "soak/report.hpp"
#include "soak/resource_checks.hpp"
#include "soak/rig.hpp"
#include "soak/schedule.hpp"
#include "soak/watchdog.hpp"
#include "soak/worker.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

namespace rebound::cli {
namespace {

using namespace std::chrono_literals;
using namespace soak;

struct SoakFlags {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string duration = "60s";
  unsigned clients = 8;
  unsigned depth = 3;
  std::string grace = "2s";
  std::string progress = "10s";
  bool json = false;
  bool keep_going = false;
  bool print_schedule = false;
  std::vector<std::string> expect;  ///< invariants a known defect breaks every run
  std::vector<std::string> known;   ///< invariants a known defect breaks some runs
};

// Short health-check timings, so a silent connection is found within a
// request's deadline; a header timeout, so a request on a blackholed
// HTTP/1.1 connection (which has no health check) is retried in time.
Options client_options(const Rig& rig) {
  Options o;
  o.connect_timeout = 2s;
  o.request_timeout = 10s;
  o.read_idle_timeout = 1s;
  o.ping_timeout = 1s;
  o.response_header_timeout = 3s;
  o.tcp_user_timeout = 5s;
  o.tls.ca_file = rig.ca_file();
  return o;
}

WorkerSetup setup_for(unsigned i, const SoakFlags& f, const Rig& rig) {
  WorkerSetup w;
  w.index = static_cast<int>(i);
  w.mode = static_cast<ClientMode>(i % client_mode_count);
  const bool tls = uses_tls(w.mode);
  w.servers[0] = tls ? ServerSlot::inproc_tls : ServerSlot::inproc_plain;
  w.servers[1] = tls ? ServerSlot::child_tls : ServerSlot::child_plain;
  for (int k = 0; k < 2; ++k) w.urls[k] = rig.url(w.servers[k]);
  w.options = client_options(rig);
  w.seed = f.seed ^ (0x9E3779B97F4A7C15ull * (i + 1));
  w.depth = static_cast<int>(f.depth);
  return w;
}

std::string temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "rebound-soak-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw soak::HarnessError("mkdtemp failed");
  return pattern;
}

/// Waits until no worker has a request in flight, or `bound` passed.
void drain(const std::vector<std::unique_ptr<Worker>>& workers, std::chrono::milliseconds bound) {
  const auto until = Clock::now() + bound;
  auto busy = [&] {
    for (const auto& w : workers)
      if (w->in_flight() > 0) return true;
    return false;
  };
  while (busy() && Clock::now() < until) std::this_thread::sleep_for(20ms);
}

/// The soak proper: everything it creates is gone when this returns.
void run_soak(const SoakFlags& f, const Schedule& schedule, std::chrono::milliseconds length,
              std::chrono::milliseconds grace, Monitor& monitor, Tally& tally, Summary& summary, std::ostream& log) {
  const std::string dir = temp_dir();
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } remove_dir{dir};

  Rig rig(dir);
  Ledger ledger;
  const auto t0 = Clock::now();
  Injector injector(rig, schedule, t0);
  const Shared shared{ledger, monitor, tally, injector, t0, grace};
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Worker*> raw;
  for (unsigned i = 0; i < f.clients; ++i) {
    workers.push_back(std::make_unique<Worker>(setup_for(i, f, rig), shared));
    raw.push_back(workers.back().get());
  }
  std::vector<std::string> logs;
  for (int s = 0; s < server_count; ++s) logs.push_back(rig.request_log(static_cast<ServerSlot>(s)));
  Watchdog watchdog(shared, raw, logs);

  injector.start();
  watchdog.start();
  for (auto& w : workers) w->start();
  const auto progress_every = std::max<std::chrono::milliseconds>(duration_or_throw("--progress", f.progress), 100ms);
  auto next_progress = t0 + progress_every;
  while (Clock::now() < t0 + length && !monitor.stop_requested() && !injector.harness_error()) {
    std::this_thread::sleep_for(100ms);
    if (Clock::now() >= next_progress) {
      next_progress += progress_every;
      std::uint64_t dials = 0, dial_failures = 0;
      for (auto& w : workers) {
        const Counters c = w->client().counters();
        dials += c.dials;
        dial_failures += c.dial_failures;
      }
      log << "  " << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t0).count() << " s: "
          << tally.total() << " requests (" << tally.ok() << " ok), " << dials << " dials (" << dial_failures
          << " failed), " << injector.injected_total() << " faults, " << monitor.total() << " violations"
          << std::endl;
    }
  }

  // Wind down: no new requests, every fault repaired, the rest complete.
  const Deadman deadman(std::chrono::seconds(180), monitor);
  for (auto& w : workers) w->stop_issuing();
  injector.stop();
  const std::chrono::milliseconds longest = client_options(rig).request_timeout;
  drain(workers, longest + grace + 2s);
  // Silent connections left by blackhole_current are found by the health
  // checks (PING after 1 s idle, 1 s to answer) before the probes run.
  std::this_thread::sleep_for(3s);
  for (auto& w : workers) w->probe();
  drain(workers, 10s + grace + 2s);
  watchdog.sweep();

  check_idle_cpu(rig.child_pids(), summary.resources, monitor);

  watchdog.stop();
  watchdog.sweep();
  for (auto& w : workers) {
    w->client().shutdown();
    const Counters c = w->client().counters();
    summary.retries += c.retries;
    summary.dials += c.dials;
    summary.dial_failures += c.dial_failures;
    summary.completions_dropped += c.completions_dropped;
  }
  if (summary.completions_dropped > 0)
    monitor.report({"completions_dropped_zero",
                    std::to_string(summary.completions_dropped) + " completions dropped after shutdown"},
                   "every client");
  workers.clear();
  rig.stop();
  watchdog.read_logs(true);
  watchdog.check_all_runs();

  summary.injected = injector.injected();
  summary.log_lines = watchdog.log_lines();
  summary.unknown_log_lines = watchdog.unknown_log_lines();
  summary.resources.fds_peak = watchdog.peak_fds();
  summary.resources.rss_peak = watchdog.peak_rss();
  summary.harness_error = injector.harness_error();
}

int run(SoakFlags& f) {
  const auto started = Clock::now();
  if (!f.seed_given) f.seed = std::random_device{}() * 0x100000000ull + std::random_device{}();
  const auto length = duration_or_throw("--duration", f.duration);
  const auto grace = duration_or_throw("--grace", f.grace);
  if (f.clients == 0) throw CLI::ValidationError("--clients", "at least one client");
  if (length < 5s) throw CLI::ValidationError("--duration", "at least 5s");

  const Schedule schedule = make_schedule(f.seed, length);
  std::ostream& log = f.json ? std::cerr : std::cout;
  int planned = 0;
  for (int op = 0; op < fault_op_count; ++op) planned += schedule.count(static_cast<Op>(op));
  log << "rebound soak: seed " << f.seed << ", " << f.duration << ", " << f.clients << " clients; schedule of "
      << planned << " faults (" << schedule.actions.size() << " actions)\n"
      << "replay: rebound soak --seed " << f.seed << " --duration " << f.duration << " --clients " << f.clients
      << std::endl;
  if (f.print_schedule)
    for (const auto& a : schedule.actions) log << "  " << describe(a) << "\n";

  Summary summary;
  summary.seed = f.seed;
  summary.duration = f.duration;
  summary.clients = f.clients;
  summary.fingerprint = schedule.fingerprint();
  summary.actions = schedule.actions.size();
  for (int op = 0; op < fault_op_count; ++op)
    if (int n = schedule.count(static_cast<Op>(op))) summary.planned[to_string(static_cast<Op>(op))] = static_cast<std::uint64_t>(n);

  const Baseline before = take_baseline();
  auto check_names = [](const char* flag, const std::vector<std::string>& names) {
    for (const auto& name : names)
      if (std::find(std::begin(invariant_names), std::end(invariant_names), name) == std::end(invariant_names))
        throw CLI::ValidationError(flag, "no invariant is called \"" + name + "\"");
  };
  check_names("--expect-violation", f.expect);
  check_names("--known-defect", f.known);
  Monitor monitor(Clock::now(), f.keep_going, {f.expect.begin(), f.expect.end()}, {f.known.begin(), f.known.end()});
  Tally tally;
  try {
    run_soak(f, schedule, length, grace, monitor, tally, summary, log);
  } catch (const soak::HarnessError& e) {
    summary.harness_error = e.what();
  }
  check_returned(before, summary.resources, monitor);

  summary.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  summary.requests = tally.table();
  summary.requests_total = tally.total();
  summary.requests_ok = tally.ok();
  summary.violations = monitor.counts();
  summary.violations_total = monitor.total();
  summary.violations_unexpected = monitor.unexpected();
  summary.expected = monitor.expected();
  summary.known = monitor.known();
  summary.expected_missing = monitor.expected_missing();
  summary.firsts = monitor.firsts();
  if (f.json) print_json(std::cout, summary);
  else print_text(std::cout, summary);
  return summary.exit_code();
}

}  // namespace

void add_soak(CLI::App& root) {
  auto flags = std::make_shared<SoakFlags>();
  CLI::App* app = root.add_subcommand(
      "soak", "Seeded chaos soak: concurrent clients through fault proxies while a seeded schedule kills, "
              "restarts, GOAWAYs, refuses, resets, drops, blackholes, delays and cuts; checks every invariant");
  app->add_option("--seed", flags->seed, "Seed of the fault schedule and the request mix (default: random, printed)")
      ->each([flags](const std::string&) { flags->seed_given = true; });
  add_duration(*app, "--duration", flags->duration, "How long the faults and traffic run");
  app->add_option("--clients", flags->clients, "Concurrent clients (each a Client; modes h2/TLS, h1/TLS, h2c, h1)")
      ->capture_default_str();
  app->add_option("--in-flight", flags->depth, "Requests each client keeps in flight")->capture_default_str();
  add_duration(*app, "--grace", flags->grace, "How far past its deadline a request may complete");
  add_duration(*app, "--progress", flags->progress, "How often to print a progress line (stderr with --json)");
  app->add_flag("--json", flags->json, "Print the summary as one JSON object (progress goes to stderr)");
  app->add_flag("--keep-going", flags->keep_going, "Keep running after the first violation (count them all)");
  app->add_flag("--print-schedule", flags->print_schedule, "List every scheduled fault and repair first");
  app->add_option("--expect-violation", flags->expect,
                  "An invariant a known, reported defect breaks: the run passes only if it is violated (and no "
                  "other is); repeatable");
  app->add_option("--known-defect", flags->known,
                  "An invariant a known, reported defect breaks in some runs (timing): counted, not failed; "
                  "repeatable");
  app->footer(
      "Exit status: 0 no invariant violated (but each --expect-violation); 1 a violation (the first is printed "
      "with its context) or an expected one missing; "
      "3 the harness failed (a server would not restart), so the run says nothing.");
  app->callback([flags] { throw CLI::RuntimeError(run(*flags)); });
}

}  // namespace rebound::cli
