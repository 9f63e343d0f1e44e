// `rebound bench URL`: an h2load-style load generator on the rebound client:
// a closed loop of c x m requests in flight, -n requests or -D duration,
// then throughput, latency percentiles, status counts and errors by kind.
// Bodies are counted as they stream in and then dropped, as h2load does.
//
// Several endpoints of one service (URL,URL /path; endpoints/endpoint_args.hpp)
// send each request through an EndpointGroup per Client, and the summary
// counts the requests each endpoint served. One URL stays on the Client's
// own path: the group would add a layer to what is measured.
//
// --executor caller runs each Client on an io_context that a thread of the
// bench runs itself (the main thread for the first), as an application
// with its own event loop would: no I/O thread of rebound's and no hop
// between threads per request, the mode comparable to h2load's single loop.
#include "common.hpp"
#include "endpoints/endpoint_args.hpp"
#include "latency_histogram.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace rebound::cli {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct BenchFlags {
  std::vector<std::string> urls;
  std::string url;        // as reported: the URL, or the endpoints and the path
  std::vector<std::string> endpoints;  // several: through an EndpointGroup
  std::uint64_t requests = 0;
  std::string duration = "0s";
  unsigned connections = 1;
  unsigned streams = 1;
  unsigned threads = 1;
  std::string executor = "own";  // "own": the Client's I/O threads; "caller": io_contexts the bench runs
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string data;
  bool json = false;
  bool no_progress = false;
  ClientFlags client;
};

// Per I/O thread results, merged at the end: the hot path takes no lock.
struct ThreadStats {
  LatencyHistogram latencies;
  std::map<int, std::uint64_t> statuses;
  std::map<std::string, std::uint64_t> errors;
  std::uint64_t bytes = 0;
  std::vector<std::uint64_t> served_by;  // several endpoints: requests each one answered
};

class Run {
 public:
  Run(const BenchFlags& f, Request prototype, const Options& options) : flags_(f), prototype_(std::move(prototype)) {
    // One Client per thread, like h2load's workers: a Client serves an
    // origin from one I/O thread (its per-origin limits hold client-wide).
    callers_ = f.executor == "caller";
    for (unsigned i = 0; i < f.threads; ++i) {
      Options o = options;
      if (!f.endpoints.empty()) {
        observers_.emplace_back();
        o.on_event = observers_.back().hook(std::move(o.on_event));  // GOAWAYs, failed dials skip endpoints
      }
      if (!callers_) {
        clients_.push_back(std::make_unique<Client>(std::move(o)));
      } else {
        loops_.push_back(std::make_unique<asio::io_context>(1));
        clients_.push_back(std::make_unique<Client>(loops_.back()->get_executor(), std::move(o)));
      }
      if (f.endpoints.empty()) continue;
      EndpointGroupOptions go;
      go.request_timeout = options.request_timeout;
      groups_.push_back(std::make_unique<EndpointGroup>(*clients_.back(), f.endpoints, std::move(go)));
      observers_.back().attach(groups_.back().get());
    }
    // Like h2load, count response bodies and drop them: a load generator
    // measures the transport, not the allocator holding a copy of every body.
    prototype_.on_body([this](std::string_view chunk) { local().bytes += chunk.size(); });
  }

  ~Run() { drop_groups(); }

  void go() {
    duration_ = duration_or_throw("--duration", flags_.duration);
    limit_ = flags_.requests;
    if (limit_ == 0 && duration_.count() == 0) limit_ = 10000;
    const std::uint64_t window = std::uint64_t(flags_.connections) * flags_.streams;
    started_at_ = Clock::now();
    if (callers_) return go_on_loops(window);
    for (std::uint64_t i = 0; i < window; ++i)
      if (!launch(i % clients_.size())) break;
    const bool tty = !flags_.no_progress && ::isatty(STDERR_FILENO);
    std::unique_lock lock(mutex_);
    while (!done_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return in_flight_ == 0 && stopped(); })) {
      if (tty) progress();
    }
    finished_at_ = Clock::now();
    if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
  }

  // The caller's-executor mode: each loop starts its share of the window
  // from inside itself and runs until the last request completes; then the
  // Clients go and the loops run their shutdowns to the end.
  void go_on_loops(std::uint64_t window) {
    for (std::uint64_t i = 0; i < window; ++i) {
      const std::size_t lane = i % clients_.size();
      asio::post(*loops_[i % loops_.size()], [this, lane] {
        if (!launch(lane) && in_flight_.load() == 0) stop_loops();
      });
    }
    const bool tty = !flags_.no_progress && ::isatty(STDERR_FILENO);
    asio::steady_timer ticker(*loops_.front());
    std::function<void()> tick = [&] {
      ticker.expires_after(std::chrono::milliseconds(200));
      ticker.async_wait([&](boost::system::error_code ec) {
        if (ec || stopped_loops_) return;
        progress();
        tick();
      });
    };
    if (tty) tick();
    std::vector<std::thread> others;
    for (std::size_t i = 1; i < loops_.size(); ++i) others.emplace_back([this, i] { loops_[i]->run(); });
    loops_.front()->run();
    for (auto& t : others) t.join();
    finished_at_ = Clock::now();
    ticker.cancel();
    if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
    drop_groups();
    clients_.clear();  // never waits on a caller's executor: the shutdown's handlers are queued
    for (auto& loop : loops_) {
      loop->restart();
      loop->run();
    }
  }

  void stop_loops() {
    if (stopped_loops_.exchange(true)) return;
    for (auto& loop : loops_) loop->stop();
  }

  int report() {
    ThreadStats all;
    for (auto& t : stats_) {
      all.latencies.merge(t->latencies);
      for (auto& [k, v] : t->statuses) all.statuses[k] += v;
      for (auto& [k, v] : t->errors) all.errors[k] += v;
      all.bytes += t->bytes;
      all.served_by.resize(std::max(all.served_by.size(), t->served_by.size()));
      for (std::size_t i = 0; i < t->served_by.size(); ++i) all.served_by[i] += t->served_by[i];
    }
    all.served_by.resize(flags_.endpoints.size());
    const double secs = std::chrono::duration<double>(finished_at_ - started_at_).count();
    const auto completed = all.latencies.count();
    std::uint64_t failed = 0;
    for (auto& [k, v] : all.errors) failed += v;
    const auto pct = [&](double p) { return all.latencies.percentile_us(p) / 1000.0; };
    const double max_ms = all.latencies.max_us() / 1000.0;
    const double rps = (completed + failed) / secs;
    const double mbps = all.bytes / secs / 1e6;
    if (flags_.json) {
      boost::json::object o;
      o["url"] = flags_.url;
      o["requests"] = completed + failed;
      o["succeeded"] = completed;
      o["failed"] = failed;
      o["seconds"] = secs;
      o["req_per_s"] = rps;
      o["mb_per_s"] = mbps;
      o["latency_ms"] = {{"min", pct(0)}, {"p50", pct(0.5)}, {"p90", pct(0.9)}, {"p99", pct(0.99)},
                         {"max", max_ms}};
      boost::json::object st, er;
      for (auto& [k, v] : all.statuses) st[std::to_string(k)] = v;
      for (auto& [k, v] : all.errors) er[k] = v;
      o["status"] = std::move(st);
      o["errors"] = std::move(er);
      o["connections"] = flags_.connections;
      o["streams"] = flags_.streams;
      o["threads"] = flags_.threads;
      if (!flags_.endpoints.empty()) {
        boost::json::array eps;
        for (std::size_t i = 0; i < flags_.endpoints.size(); ++i)
          eps.push_back(boost::json::object{{"endpoint", flags_.endpoints[i]}, {"served", all.served_by[i]}});
        o["endpoints"] = std::move(eps);
      }
      std::cout << boost::json::serialize(o) << std::endl;
    } else {
      std::cout << std::fixed << std::setprecision(2);
      std::cout << "finished in " << secs << " s, " << rps << " req/s, " << mbps << " MB/s\n";
      std::cout << "requests: " << (completed + failed) << " total, " << completed << " succeeded, " << failed
                << " failed\n";
      std::cout << "status codes:";
      for (auto& [k, v] : all.statuses) std::cout << " " << k << "=" << v;
      std::cout << "\nlatency ms: min " << pct(0) << "  p50 " << pct(0.5) << "  p90 " << pct(0.9) << "  p99 "
                << pct(0.99) << "  max " << max_ms
                << "\n";
      if (!flags_.endpoints.empty()) {
        std::cout << "served by endpoint:";
        for (std::size_t i = 0; i < flags_.endpoints.size(); ++i)
          std::cout << " " << flags_.endpoints[i] << "=" << all.served_by[i];
        std::cout << "\n";
      }
      if (!all.errors.empty()) {
        std::cout << "errors:";
        for (auto& [k, v] : all.errors) std::cout << " " << k << "=" << v;
        std::cout << "\n";
      }
    }
    return failed == 0 ? 0 : 1;
  }

 private:
  bool stopped() const {
    if (limit_ > 0) return issued_.load() >= limit_;
    return Clock::now() - started_at_ >= duration_;
  }

  void drop_groups() {
    for (auto& o : observers_) o.detach();
    groups_.clear();
  }

  // Claims one request slot on Client `lane`; false when the run is over.
  bool launch(std::size_t lane) {
    if (limit_ > 0) {
      if (issued_.fetch_add(1) >= limit_) return false;
    } else if (Clock::now() - started_at_ >= duration_) {
      return false;
    }
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    const auto t0 = Clock::now();
    if (!groups_.empty()) {
      groups_[lane]->send_async(prototype_, [this, t0, lane](Result<Served> r) { on_served(std::move(r), t0, lane); });
      return true;
    }
    clients_[lane]->send_async(prototype_, [this, t0, lane](Result<Response> r) { on_done(std::move(r), t0, lane); });
    return true;
  }

  ThreadStats& local() {
    thread_local ThreadStats* mine = nullptr;
    thread_local const Run* owner = nullptr;
    if (!mine || owner != this) {
      std::lock_guard lock(mutex_);
      stats_.push_back(std::make_unique<ThreadStats>());
      mine = stats_.back().get();
      owner = this;
    }
    return *mine;
  }

  void on_served(Result<Served> r, Clock::time_point t0, std::size_t lane) {
    if (!r) return on_done(Result<Response>(boost::system::in_place_error, r.error()), t0, lane);
    auto& by = local().served_by;
    if (by.size() <= r->index) by.resize(r->index + 1);
    ++by[r->index];
    on_done(Result<Response>(std::move(r->response)), t0, lane);
  }

  void on_done(Result<Response> r, Clock::time_point t0, std::size_t lane) {
    ThreadStats& s = local();
    if (r) {
      s.latencies.add(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
      ++s.statuses[r->status()];
    } else {
      ++s.errors[error_kind(r.error().code())];
      std::lock_guard lock(mutex_);
      if (first_error_.empty()) first_error_ = r.error().message();
    }
    ++completed_;
    const bool relaunched = launch(lane);
    if (callers_) {
      if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1 && !relaunched) stop_loops();
      return;
    }
    if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1 && !relaunched) {
      std::lock_guard lock(mutex_);  // pairs with the waiter's predicate check
      done_cv_.notify_all();
    }
  }

  void progress() {
    const double frac = limit_ > 0 ? double(completed_.load()) / limit_
                                   : std::chrono::duration<double>(Clock::now() - started_at_) / duration_;
    const int width = 40, filled = static_cast<int>(std::min(1.0, frac) * width);
    std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << std::setw(3)
              << static_cast<int>(std::min(1.0, frac) * 100) << "%" << std::flush;
  }

  const BenchFlags& flags_;
  Request prototype_;
  bool callers_ = false;
  std::vector<std::unique_ptr<asio::io_context>> loops_;  // the caller's-executor mode: declared before the Clients
  std::atomic<bool> stopped_loops_{false};
  std::vector<std::unique_ptr<Client>> clients_;
  std::deque<GroupObserver> observers_;                // several endpoints: one per Client
  std::vector<std::unique_ptr<EndpointGroup>> groups_;  // several endpoints: one per Client, before its Client goes
  std::chrono::milliseconds duration_{0};
  std::uint64_t limit_ = 0;
  std::atomic<std::uint64_t> issued_{0}, completed_{0};
  std::mutex mutex_;
  std::condition_variable done_cv_;
  std::atomic<std::uint64_t> in_flight_{0};  // the hot path takes no lock
  std::vector<std::unique_ptr<ThreadStats>> stats_;
  std::string first_error_;
  Clock::time_point started_at_, finished_at_;

 public:
  const std::string& first_error() const { return first_error_; }
};

int run(BenchFlags f) {
  if (f.connections == 0 || f.streams == 0 || f.threads == 0)
    throw CLI::ValidationError("-c/-m/-t", "must be at least 1");
  ClientSetup setup = f.client.setup();
  Options o = std::move(setup.options);
  const EndpointArgs args = parse_endpoint_args(f.urls);
  std::string url = args.several() ? args.endpoints.front() + args.path : setup.url(args.single);
  f.url = url;
  if (args.several()) {
    f.endpoints = args.endpoints;
    f.url.clear();
    for (const auto& e : args.endpoints) f.url += (f.url.empty() ? "" : ",") + e;
    f.url += " " + args.path;
  }
  o.io_threads = 1;  // one Client per thread (see Run)
  o.max_conns_per_origin = (f.connections + f.threads - 1) / f.threads;
  o.max_streams_per_connection = f.streams;
  o.max_queued_per_origin = 1u << 20;
  Request prototype(f.method, url);
  add_header_flags(prototype, f.headers);
  if (!f.data.empty()) prototype.body(f.data);
  if (auto parsed = parse_url(url); !parsed) {
    std::cerr << "rebound bench: " << parsed.error().message() << "\n";
    return exit_code_for(parsed.error());
  }
  if (args.several()) prototype.url(args.path);  // the group picks the endpoint
  Run run(f, std::move(prototype), o);
  run.go();
  const int rc = run.report();
  if (!run.first_error().empty()) std::cerr << "first error: " << run.first_error() << "\n";
  return rc;
}

}  // namespace

void add_bench(CLI::App& root) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* app = root.add_subcommand("bench", "Load-test a URL (h2load-style) through the rebound client");
  app->add_option("url", flags->urls,
                  "URL to load (with --kubeconfig/--context: or a path on its server); or several endpoints of one "
                  "service, comma-separated or one per argument, then the path (URL,URL /path)")
      ->required();
  app->add_option("-n,--requests", flags->requests, "Total requests (default 10000 unless -D)");
  add_duration(*app, "-D,--duration", flags->duration, "Run for this long instead of -n");
  app->add_option("-c,--clients", flags->connections, "Connections")->capture_default_str();
  app->add_option("-m,--max-concurrent-streams", flags->streams, "Requests in flight per connection")
      ->capture_default_str();
  app->add_option("-t,--threads", flags->threads, "I/O threads (one client each; -c is split across them)")->capture_default_str();
  app->add_option("--executor", flags->executor,
                  "own: each Client runs an I/O thread of its own; caller: on an io_context this program's "
                  "thread runs (one per -t), as an application's event loop would")
      ->check(CLI::IsMember({"own", "caller"}))
      ->capture_default_str();
  app->add_option("-X,--method", flags->method, "Method")->capture_default_str();
  app->add_option("-H,--header", flags->headers, "Extra header \"Name: value\" (repeatable)");
  app->add_option("-d,--data", flags->data, "Request body");
  app->add_flag("--json", flags->json, "Print one JSON object with the figures");
  app->add_flag("--no-progress", flags->no_progress, "No progress bar even on a terminal");
  flags->client.add_to(*app);
  app->callback([flags] { throw CLI::RuntimeError(with_config_errors("bench", [&] { return run(*flags); })); });
}

}  // namespace rebound::cli
