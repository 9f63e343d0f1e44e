// `rebound watch URL`: polls like a leader-election loop, one request per
// interval, and prints one line (or JSON object) per request, then a summary
// of outages (runs of failures) and recoveries. Given several endpoints of
// one service (endpoints/endpoint_args.hpp) it polls through an
// EndpointGroup: each line names the endpoint that served the poll and the
// ones it moved off; endpoints going down and up are reported as they
// happen and in the summary, and the service is down only while no
// endpoint answers.
#include "common.hpp"
#include "demo/timeline.hpp"
#include "endpoints/endpoint_args.hpp"
#include "endpoints/endpoint_log.hpp"
#include "endpoints/endpoint_report.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <thread>

namespace rebound::cli {
namespace {

struct WatchFlags {
  std::vector<std::string> urls;
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
  // Several endpoints only:
  std::string endpoint;  // the one that served the poll
  std::size_t index = 0;
  std::vector<EndpointLog::Move> moves;  // attempts that failed on the way
};

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

volatile std::sig_atomic_t interrupted = 0;

void print_sample(const Sample& s, bool json, bool several) {
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
    if (several) {
      o["endpoint"] = s.endpoint.empty() ? boost::json::value(nullptr) : boost::json::value(s.endpoint);
      if (!s.endpoint.empty()) o["endpoint_index"] = s.index;
      boost::json::array moved;
      for (const auto& m : s.moves) moved.push_back(boost::json::object{{"endpoint", m.endpoint}, {"error", m.error}});
      o["moved_from"] = std::move(moved);
    }
    std::cout << boost::json::serialize(o) << std::endl;
    return;
  }
  const std::time_t secs = s.start_ms / 1000;
  std::tm tm{};
  localtime_r(&secs, &tm);
  std::cout << std::put_time(&tm, "%H:%M:%S") << "." << std::setw(3) << std::setfill('0') << s.start_ms % 1000
            << std::setfill(' ') << "  " << std::setw(5) << (s.end_ms - s.start_ms) << " ms  ";
  if (s.ok)
    std::cout << "ok " << s.status << (several && !s.endpoint.empty() ? "  via " + s.endpoint : "") << "  conn #"
              << s.conn << (s.reused ? " reused" : " new") << "  attempts " << s.attempts;
  else
    std::cout << "FAIL " << s.error << "  attempts " << s.attempts << "  (" << s.message << ")";
  for (const auto& m : s.moves) std::cout << "  [moved off " << m.endpoint << ": " << m.error << "]";
  std::cout << std::endl;
}

struct Outage {
  std::int64_t first_failure_ms, last_failure_ms, recovered_ms;
  int failures;
};

// One endpoint: the Client alone. Several: an EndpointGroup over them
// that sees the Client's events (a GOAWAY or a failed dial skips an
// endpoint before a poll fails on it) and reports to an EndpointLog.
class Poller {
 public:
  Poller(Options options, const EndpointArgs& args, const ClientSetup& setup)
      : url_(args.several() ? args.path : setup.url(args.single)) {
    if (args.several()) {
      log_ = std::make_unique<EndpointLog>(args.endpoints);
      options.on_event = observer_.hook(std::move(options.on_event));
    }
    const auto request_timeout = options.request_timeout;  // --timeout: each poll's limit, moves included
    client_.emplace(std::move(options));
    if (!args.several()) return;
    EndpointGroupOptions go;
    go.request_timeout = request_timeout;
    go.on_event = [log = log_.get()](const EndpointEvent& e) { log->on_event(e); };
    group_ = std::make_unique<EndpointGroup>(*client_, args.endpoints, std::move(go));
    observer_.attach(group_.get());
  }
  ~Poller() {
    observer_.detach();
    group_.reset();
  }

  void poll(Sample& s) {
    if (!group_) {
      auto res = client_->get(url_);
      if (res) record(s, *res);
      else record(s, res.error());
      return;
    }
    auto res = group_->send(Request::get(url_));
    if (res) {
      record(s, res->response);
      s.attempts = res->endpoints_tried;
      s.endpoint = res->endpoint;
      s.index = res->index;
    } else {
      record(s, res.error());
    }
    s.moves = log_->take_moves();
  }

  const std::string& url() const { return url_; }
  Client& client() { return *client_; }
  EndpointLog* log() { return log_.get(); }

 private:
  static void record(Sample& s, const Response& r) {
    s.ok = r.status() < 500;
    s.status = r.status();
    s.conn = r.connection_id();
    s.reused = r.reused_connection();
    s.attempts = r.attempts();
    if (!s.ok) s.error = "http_" + std::to_string(s.status);
  }
  static void record(Sample& s, const Error& e) {
    s.error = error_kind(e.code());
    s.message = e.message();
    s.attempts = e.attempts();
  }

  std::string url_;
  GroupObserver observer_;
  std::unique_ptr<EndpointLog> log_;
  std::optional<Client> client_;
  std::unique_ptr<EndpointGroup> group_;
};

int run(const WatchFlags& f) {
  ClientSetup setup = f.client.setup();
  Options options = std::move(setup.options);
  const EndpointArgs args = parse_endpoint_args(f.urls);
  const bool several = args.several();
  const auto interval = duration_or_throw("--interval", f.interval);
  const auto duration = duration_or_throw("--duration", f.duration);
  Poller poller(std::move(options), args, setup);
  const std::string url = poller.url();
  Client& client = poller.client();
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
    poller.poll(s);
    s.end_ms = epoch_ms();
    ++total;
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
    print_sample(s, f.json, several);
    if (several) print_endpoint_changes(std::cout, *poller.log(), poller.log()->take_changes(), f.json);
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
    if (several) summary["endpoints"] = endpoints_summary_json(*poller.log());
    std::cout << boost::json::serialize(summary) << std::endl;
  } else {
    std::cout << "--- " << total << " requests, " << ok << " ok, " << (total - ok) << " failed, " << outages.size()
              << " outage(s)" << (several ? " of the service (up while any endpoint answers)" : "") << "\n";
    for (const auto& o : outages) {
      std::cout << "outage: " << o.failures << " failed request(s) over "
                << (o.last_failure_ms - o.first_failure_ms) << " ms; "
                << (o.recovered_ms ? "recovered " + std::to_string(o.recovered_ms - o.first_failure_ms) +
                                         " ms after the first failure"
                                   : std::string("not recovered"))
                << "\n";
    }
    if (several) print_endpoints_summary(std::cout, *poller.log());
  }
  return ok == total ? 0 : 1;
}

}  // namespace

void add_watch(CLI::App& root) {
  auto flags = std::make_shared<WatchFlags>();
  CLI::App* app = root.add_subcommand("watch", "Poll a URL like a leader-election loop and report outages and recoveries");
  app->add_option("url", flags->urls,
                  "URL to poll (with --kubeconfig/--context: or a path on its server); or several endpoints of one "
                  "service, comma-separated or one per argument, then the path (URL,URL /health), each poll sent "
                  "to a healthy one in turn")
      ->required();
  add_duration(*app, "--interval", flags->interval, "Time between request starts");
  add_duration(*app, "--duration", flags->duration, "Stop after this long (0: until interrupted)");
  app->add_flag("--json", flags->json, "JSON Lines: one object per request, then a summary object");
  app->add_option("--svg", flags->svg, "Draw the timeline (requests, outages) into this SVG file");
  flags->client.timeout = "2s";  // a poll loop wants a short per-request limit
  flags->client.add_to(*app);
  app->callback([flags] { throw CLI::RuntimeError(with_config_errors("watch", [&] { return run(*flags); })); });
}

}  // namespace rebound::cli
