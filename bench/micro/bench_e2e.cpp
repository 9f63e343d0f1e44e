// End-to-end and memory benchmarks of the rebound Client against the
// embedded server, which runs in a forked child (peer.hpp) so that CPU time
// and memory below are the client's alone.
//
// End-to-end: a closed loop keeps W requests in flight on one HTTP/2
// connection; each benchmark iteration is a batch of requests. Counters:
// req_per_s, us_per_req (wall), cpu_us_per_req (the whole client process:
// I/O thread and callbacks, from getrusage).
//
// Memory (one iteration each): heap bytes in use (glibc mallinfo2, every
// arena) per idle HTTP/2 connection and per open stream, and peak RSS
// (VmHWM, reset first through /proc/self/clear_refs) with N requests in
// flight against /delay/MS.
#include "peer.hpp"

#include <rebound/rebound.hpp>

#include <benchmark/benchmark.h>

#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
using rebound_bench::peer;

bool need_peer(benchmark::State& state) {
  if (peer().running()) return true;
  rebound_bench::record_failure();
  state.SkipWithError("embedded server not running");
  return false;
}

// HTTP/2 only: h2c by prior knowledge, or TLS requiring ALPN h2.
rebound::Options client_options(bool tls) {
  rebound::Options o;
  o.http_version = rebound::HttpVersion::http2_prior_knowledge;
  o.tls.verify_peer = false;
  o.io_threads = 1;
  o.max_queued_per_origin = 1u << 20;
  return o;
}

std::string base_url(bool tls) { return tls ? peer().tls_url() : peer().h2c_url(); }

double process_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Heap bytes in use, all arenas, mmapped chunks included.
double heap_in_use() {
  const struct mallinfo2 mi = ::mallinfo2();
  return double(mi.uordblks + mi.hblkhd);
}

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM").
double status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
  }
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return bool(out);
}

// Keeps `window` requests in flight until `total` have been issued; run()
// blocks until every one has completed.
class ClosedLoop {
 public:
  ClosedLoop(rebound::Client& client, rebound::Request prototype, std::size_t expected_body)
      : client_(client), prototype_(std::move(prototype)), expected_body_(expected_body) {}

  void run(std::uint64_t total, std::uint64_t window) {
    issued_ = 0;
    total_ = total;
    {
      std::lock_guard lock(mutex_);
      outstanding_ = 0;
    }
    for (std::uint64_t i = 0; i < window && launch(); ++i) {
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return outstanding_ == 0 && issued_.load() >= total_; });
  }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  bool launch() {
    if (issued_.fetch_add(1) >= total_) return false;
    {
      std::lock_guard lock(mutex_);
      ++outstanding_;
    }
    client_.send_async(prototype_, [this](rebound::Result<rebound::Response> r) {
      if (!r || r->status() != 200 || r->body().size() != expected_body_) failures_.fetch_add(1);
      const bool more = launch();
      std::lock_guard lock(mutex_);
      if (--outstanding_ == 0 && !more) done_.notify_all();
    });
    return true;
  }

  rebound::Client& client_;
  rebound::Request prototype_;
  std::size_t expected_body_;
  std::atomic<std::uint64_t> issued_{0}, failures_{0};
  std::uint64_t total_ = 0;
  std::mutex mutex_;
  std::condition_variable done_;
  std::uint64_t outstanding_ = 0;
};

// ---------------------------------------------------------------- end to end

// Args: requests in flight (on one connection), TLS (0 = h2c, 1 = TLS).
void BM_EndToEnd(benchmark::State& state) {
  if (!need_peer(state)) return;
  const auto window = static_cast<std::uint64_t>(state.range(0));
  const bool tls = state.range(1) != 0;
  state.SetLabel(std::string(tls ? "h2 TLS" : "h2c") + ", GET /bytes/64, " + std::to_string(window) + " in flight");
  auto options = client_options(tls);
  options.max_conns_per_origin = 1;
  options.max_streams_per_connection = static_cast<std::uint32_t>(window);
  rebound::Client client(options);
  const std::string url = base_url(tls) + "/bytes/64";
  if (auto warm = client.get(url); !warm || warm->status() != 200) {
    rebound_bench::record_failure();
    state.SkipWithError("warm-up request failed");
    return;
  }
  ClosedLoop loop(client, rebound::Request::get(url), 64);
  const std::uint64_t batch = window >= 50 ? 2000 : 200;
  std::uint64_t done = 0;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = Clock::now();
  for (auto _ : state) {
    loop.run(batch, window);
    done += batch;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = process_cpu_seconds() - cpu0;
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  state.counters["req_per_s"] = benchmark::Counter(double(done), benchmark::Counter::kIsRate);
  state.counters["us_per_req"] = wall * 1e6 / double(done);
  state.counters["cpu_us_per_req"] = cpu * 1e6 / double(done);
  state.counters["failed"] = double(loop.failures());
  if (loop.failures()) rebound_bench::record_failure();
}
BENCHMARK(BM_EndToEnd)
    ->ArgNames({"in_flight", "tls"})
    ->Args({100, 0})
    ->Args({1, 0})
    ->Args({100, 1})
    ->Args({1, 1})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- memory

// Counts events the pool reports, to wait for "N streams open" without sleeping blindly.
struct EventCounts {
  std::atomic<std::uint64_t> dials{0}, streams{0}, done{0};
  rebound::EventHook hook() {
    return [this](const rebound::Event& e) {
      switch (e.kind) {
        case rebound::EventKind::dial_done: dials.fetch_add(1); break;
        case rebound::EventKind::request_start: streams.fetch_add(1); break;
        case rebound::EventKind::request_done: done.fetch_add(1); break;
        default: break;
      }
    };
  }
};

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Fires `n` requests at once and returns without waiting for them.
void fire(rebound::Client& client, const std::string& url, std::uint64_t n, std::atomic<std::uint64_t>& completed,
          std::atomic<std::uint64_t>& failed) {
  for (std::uint64_t i = 0; i < n; ++i) {
    client.send_async(rebound::Request::get(url), [&](rebound::Result<rebound::Response> r) {
      if (!r || r->status() != 200) failed.fetch_add(1);
      completed.fetch_add(1);
    });
  }
}

// Heap per idle HTTP/2 connection. Args: connections, TLS.
void BM_Memory_IdleConnection(benchmark::State& state) {
  if (!need_peer(state)) return;
  const auto conns = static_cast<std::uint64_t>(state.range(0));
  const bool tls = state.range(1) != 0;
  state.SetLabel(tls ? "h2 TLS" : "h2c");
  for (auto _ : state) {
    EventCounts events;
    auto options = client_options(tls);
    options.max_conns_per_origin = static_cast<std::uint32_t>(conns);
    options.max_streams_per_connection = 1;  // one connection per concurrent request
    options.on_event = events.hook();
    rebound::Client client(options);
    // Long enough that every request holds its connection while the others dial.
    const std::string url = base_url(tls) + "/delay/1000";
    if (!client.get(url)) {
      rebound_bench::record_failure();
    state.SkipWithError("warm-up request failed");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double heap1 = heap_in_use(), rss1 = status_bytes("VmRSS");
    std::atomic<std::uint64_t> completed{0}, failed{0};
    fire(client, url, conns, completed, failed);
    wait_until([&] { return completed.load() == conns; }, std::chrono::seconds(30));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the pool settle
    const double heapN = heap_in_use(), rssN = status_bytes("VmRSS");
    const double opened = double(events.dials.load());
    state.counters["connections"] = opened;
    state.counters["failed"] = double(failed.load());
    if (failed.load() || opened < 2) rebound_bench::record_failure();
    if (opened > 1) {
      state.counters["heap_bytes_per_idle_conn"] = (heapN - heap1) / (opened - 1);
      state.counters["rss_bytes_per_idle_conn"] = (rssN - rss1) / (opened - 1);
    }
  }
}
BENCHMARK(BM_Memory_IdleConnection)
    ->ArgNames({"conns", "tls"})
    ->Args({64, 0})
    ->Args({64, 1})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Heap per open stream: `streams` requests held open by /delay on one
// connection (request, exchange, nghttp2 stream state and callback).
void BM_Memory_OpenStream(benchmark::State& state) {
  if (!need_peer(state)) return;
  const auto streams = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    EventCounts events;
    auto options = client_options(false);
    options.max_conns_per_origin = 1;
    options.on_event = events.hook();
    rebound::Client client(options);
    if (!client.get(base_url(false) + "/bytes/1")) {
      rebound_bench::record_failure();
    state.SkipWithError("warm-up request failed");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double heap0 = heap_in_use();
    const auto started0 = events.streams.load();
    std::atomic<std::uint64_t> completed{0}, failed{0};
    fire(client, base_url(false) + "/delay/1000", streams, completed, failed);
    const bool all_open =
        wait_until([&] { return events.streams.load() - started0 >= streams; }, std::chrono::seconds(10));
    const double heap1 = heap_in_use();
    wait_until([&] { return completed.load() == streams; }, std::chrono::seconds(30));
    state.counters["open_streams"] = double(events.streams.load() - started0);
    state.counters["failed"] = double(failed.load());
    if (failed.load() || !all_open) rebound_bench::record_failure();
    if (all_open) state.counters["heap_bytes_per_open_stream"] = (heap1 - heap0) / double(streams);
  }
}
BENCHMARK(BM_Memory_OpenStream)->Arg(100)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// Peak RSS with `in_flight` requests outstanding at once against /delay/MS:
// 100 streams per connection, as many connections as that needs.
void BM_Memory_InFlight(benchmark::State& state) {
  if (!need_peer(state)) return;
  const auto in_flight = static_cast<std::uint64_t>(state.range(0));
  const auto delay_ms = state.range(1);
  for (auto _ : state) {
    EventCounts events;
    auto options = client_options(false);
    options.max_streams_per_connection = 100;
    options.max_conns_per_origin = static_cast<std::uint32_t>((in_flight + 99) / 100);
    options.request_timeout = std::chrono::seconds(60);
    options.on_event = events.hook();
    const double heap_before = heap_in_use(), rss_before = status_bytes("VmRSS");
    const bool reset = reset_peak_rss();
    {
      rebound::Client client(options);
      std::atomic<std::uint64_t> completed{0}, failed{0};
      const auto t0 = Clock::now();
      fire(client, base_url(false) + "/delay/" + std::to_string(delay_ms), in_flight, completed, failed);
      const bool all_open =
          wait_until([&] { return events.streams.load() >= in_flight; }, std::chrono::milliseconds(delay_ms));
      const double open_after_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      const double heap_open = heap_in_use(), rss_open = status_bytes("VmRSS");
      wait_until([&] { return completed.load() == in_flight; }, std::chrono::seconds(60));
      state.counters["connections"] = double(events.dials.load());
      state.counters["streams_open_at_once"] = all_open ? double(in_flight) : double(events.streams.load());
      state.counters["ms_to_open_all"] = all_open ? open_after_ms : -1;
      const auto lost = failed.load() + (in_flight - completed.load());
      state.counters["failed"] = double(lost);
      if (lost || !all_open) rebound_bench::record_failure();
      state.counters["heap_bytes_per_request_in_flight"] = (heap_open - heap_before) / double(in_flight);
      state.counters["rss_bytes_per_request_in_flight"] = (rss_open - rss_before) / double(in_flight);
    }
    state.counters["peak_rss_MiB"] = status_bytes("VmHWM") / (1024.0 * 1024.0);
    state.counters["rss_before_MiB"] = rss_before / (1024.0 * 1024.0);
    state.counters["peak_rss_reset"] = reset ? 1 : 0;
  }
}
BENCHMARK(BM_Memory_InFlight)
    ->ArgNames({"in_flight", "delay_ms"})
    ->Args({500, 500})      // small variant: the CI smoke test
    ->Args({10000, 2000})   // the figure: 10,000 outstanding
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
