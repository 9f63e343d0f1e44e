// `rebound watch URL`: polls like a leader-election loop, one request per
// interval, and prints one line (or JSON object) per request, then a summary
// of outages (runs of failures) and recoveries.
#include "common.hpp"
#include "demo/timeline.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <thread>

namespace rebound::cli {
namespace {

struct WatchFlags {
  std::string url;
  std::string interval = "200ms";
  std::string duration = "0s";
  bool json = false;
  std::string svg;
  ClientFlags client;
};

struct Sample {
  std::int64_t start_ms = 0, end_ms = 0;
  bool ok = false;
  int status = 0;
  std::string error;  // errc name, empty on success
  std::string message;
  std::uint64_t conn = 0;
  bool reused = false;
  int attempts = 0;
};

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

volatile std::sig_atomic_t interrupted = 0;

void print_sample(const Sample& s, bool json) {
  if (json) {
    boost::json::object o;
    o["start_ms"] = s.start_ms;
    o["end_ms"] = s.end_ms;
    o["ok"] = s.ok;
    o["status"] = s.status;
    o["error"] = s.error.empty() ? boost::json::value(nullptr) : boost::json::value(s.error);
    o["conn"] = s.conn ? boost::json::value(s.conn) : boost::json::value(nullptr);
    o["reused"] = s.reused;
    o["attempts"] = s.attempts;
    std::cout << boost::json::serialize(o) << std::endl;
    return;
  }
  const std::time_t secs = s.start_ms / 1000;
  std::tm tm{};
  localtime_r(&secs, &tm);
  std::cout << std::put_time(&tm, "%H:%M:%S") << "." << std::setw(3) << std::setfill('0') << s.start_ms % 1000
            << std::setfill(' ') << "  " << std::setw(5) << (s.end_ms - s.start_ms) << " ms  ";
  if (s.ok)
    std::cout << "ok " << s.status << "  conn #" << s.conn << (s.reused ? " reused" : " new") << "  attempts "
              << s.attempts;
  else
    std::cout << "FAIL " << s.error << "  attempts " << s.attempts << "  (" << s.message << ")";
  std::cout << std::endl;
}

struct Outage {
  std::int64_t first_failure_ms, last_failure_ms, recovered_ms;
  int failures;
};

int run(const WatchFlags& f) {
  ClientSetup setup = f.client.setup();
  Options options = std::move(setup.options);
  const std::string url = setup.url(f.url);
  const auto interval = duration_or_throw("--interval", f.interval);
  const auto duration = duration_or_throw("--duration", f.duration);
  Client client(std::move(options));
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });

  demo::Timeline timeline(nullptr, false);  // for --svg
  std::vector<Outage> outages;
  std::optional<Outage> current;
  std::uint64_t total = 0, ok = 0;
  const auto began = std::chrono::steady_clock::now();
  auto next = began;
  while (!interrupted && (duration.count() == 0 || std::chrono::steady_clock::now() - began < duration)) {
    Sample s;
    s.start_ms = epoch_ms();
    auto res = client.get(url);
    s.end_ms = epoch_ms();
    ++total;
    if (res) {
      s.ok = res->status() < 500;
      s.status = res->status();
      s.conn = res->connection_id();
      s.reused = res->reused_connection();
      s.attempts = res->attempts();
      if (!s.ok) s.error = "http_" + std::to_string(s.status);
    } else {
      s.error = error_kind(res.error().code());
      s.message = res.error().message();
      s.attempts = res.error().attempts();
    }
    timeline.add(url, s.ok ? "ok" : "failed", s.ok ? std::to_string(s.status) : s.error,
                 s.ok ? demo::Mark::good : demo::Mark::bad);
    if (s.ok) {
      ++ok;
      if (current) timeline.add(url, "recovered", "", demo::Mark::up);
      if (current) {
        current->recovered_ms = s.end_ms;
        outages.push_back(*current);
        current.reset();
      }
    } else if (!current) {
      timeline.add(url, "outage", s.error, demo::Mark::down);
      current = Outage{s.start_ms, s.end_ms, 0, 1};
    } else {
      current->last_failure_ms = s.end_ms;
      ++current->failures;
    }
    print_sample(s, f.json);
    next += interval;
    const auto now = std::chrono::steady_clock::now();
    if (next > now) std::this_thread::sleep_until(next);
    else next = now;
  }
  if (current) outages.push_back(*current);  // still down at the end: recovered_ms stays 0
  if (!f.svg.empty()) {
    std::ofstream out(f.svg);
    out << timeline.to_svg({url}, "rebound watch " + url + ": " + std::to_string(total - ok) + " of " +
                                        std::to_string(total) + " failed, " + std::to_string(outages.size()) +
                                        " outage(s)",
                            "green: request succeeded \u00b7 red: request failed \u00b7 pink: outage (first failure to recovery)");
  }

  if (f.json) {
    boost::json::object summary;
    summary["summary"] = true;
    summary["requests"] = total;
    summary["ok"] = ok;
    summary["failed"] = total - ok;
    const auto counters = client.counters();
    summary["dials"] = counters.dials;
    summary["dial_failures"] = counters.dial_failures;
    summary["connections"] = counters.connections_open + counters.connections_closed;  // dials that connected
    boost::json::array list;
    for (const auto& o : outages) {
      boost::json::object j;
      j["first_failure_ms"] = o.first_failure_ms;
      j["last_failure_ms"] = o.last_failure_ms;
      j["recovered_ms"] = o.recovered_ms ? boost::json::value(o.recovered_ms) : boost::json::value(nullptr);
      j["failures"] = o.failures;
      list.push_back(std::move(j));
    }
    summary["outages"] = std::move(list);
    std::cout << boost::json::serialize(summary) << std::endl;
  } else {
    std::cout << "--- " << total << " requests, " << ok << " ok, " << (total - ok) << " failed, " << outages.size()
              << " outage(s)\n";
    for (const auto& o : outages) {
      std::cout << "outage: " << o.failures << " failed request(s) over "
                << (o.last_failure_ms - o.first_failure_ms) << " ms; "
                << (o.recovered_ms ? "recovered " + std::to_string(o.recovered_ms - o.first_failure_ms) +
                                         " ms after the first failure"
                                   : std::string("not recovered"))
                << "\n";
    }
  }
  return ok == total ? 0 : 1;
}

}  // namespace

void add_watch(CLI::App& root) {
  auto flags = std::make_shared<WatchFlags>();
  CLI::App* app = root.add_subcommand("watch", "Poll a URL like a leader-election loop and report outages and recoveries");
  app->add_option("url", flags->url, "URL to poll (with --kubeconfig/--context: or a path on its server)")->required();
  add_duration(*app, "--interval", flags->interval, "Time between request starts");
  add_duration(*app, "--duration", flags->duration, "Stop after this long (0: until interrupted)");
  app->add_flag("--json", flags->json, "JSON Lines: one object per request, then a summary object");
  app->add_option("--svg", flags->svg, "Draw the timeline (requests, outages) into this SVG file");
  flags->client.timeout = "2s";  // a poll loop wants a short per-request limit
  flags->client.add_to(*app);
  app->callback([flags] { throw CLI::RuntimeError(with_config_errors("watch", [&] { return run(*flags); })); });
}

}  // namespace rebound::cli
