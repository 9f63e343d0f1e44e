// The soak's run, start to end: the rig, the workers and the injector
// for the configured length, then the wind-down, the final probes and
// checks, and the summary. `rebound soak` (cli/cmd_soak.cpp) only turns
// flags into Settings.
#include <rebound/soak/deadman.hpp>
#include <rebound/soak/injector.hpp>
#include <rebound/soak/ledger.hpp>
#include <rebound/soak/monitor.hpp>
#include <rebound/soak/report.hpp>
#include <rebound/soak/resource_checks.hpp>
#include <rebound/soak/rig.hpp>
#include <rebound/soak/run.hpp>
#include <rebound/soak/schedule.hpp>
#include <rebound/soak/watchdog.hpp>
#include <rebound/soak/worker.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

namespace rebound::soak {
namespace {

using namespace std::chrono_literals;

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

WorkerSetup setup_for(unsigned i, const Settings& f, const Rig& rig) {
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
  if (!::mkdtemp(pattern.data())) throw HarnessError("mkdtemp failed");
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
void run_soak(const Settings& f, const Schedule& schedule, Monitor& monitor, Tally& tally, Summary& summary,
              std::ostream& log) {
  const auto length = f.length;
  const auto grace = f.grace;
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
  const auto progress_every = std::max<std::chrono::milliseconds>(f.progress, 100ms);
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

}  // namespace

int run(const Settings& f) {
  const auto started = Clock::now();
  const Schedule schedule = make_schedule(f.seed, f.length);
  std::ostream& log = f.json ? std::cerr : std::cout;
  int planned = 0;
  for (int op = 0; op < fault_op_count; ++op) planned += schedule.count(static_cast<Op>(op));
  log << "rebound soak: seed " << f.seed << ", " << f.duration_text << ", " << f.clients << " clients; schedule of "
      << planned << " faults (" << schedule.actions.size() << " actions)\n"
      << "replay: rebound soak --seed " << f.seed << " --duration " << f.duration_text << " --clients " << f.clients
      << std::endl;
  if (f.print_schedule)
    for (const auto& a : schedule.actions) log << "  " << describe(a) << "\n";

  Summary summary;
  summary.seed = f.seed;
  summary.duration = f.duration_text;
  summary.clients = f.clients;
  summary.fingerprint = schedule.fingerprint();
  summary.actions = schedule.actions.size();
  for (int op = 0; op < fault_op_count; ++op)
    if (int n = schedule.count(static_cast<Op>(op))) summary.planned[to_string(static_cast<Op>(op))] = static_cast<std::uint64_t>(n);

  const Baseline before = take_baseline();
  Monitor monitor(Clock::now(), f.keep_going, {f.expect.begin(), f.expect.end()}, {f.known.begin(), f.known.end()});
  Tally tally;
  try {
    run_soak(f, schedule, monitor, tally, summary, log);
  } catch (const HarnessError& e) {
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

}  // namespace rebound::soak
