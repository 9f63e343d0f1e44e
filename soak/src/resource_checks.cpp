// Idle CPU and return-to-baseline checks, with their bounds.
#include <rebound/soak/resource_checks.hpp>

#include <rebound/soak/process_probe.hpp>

#include <algorithm>
#include <thread>

namespace rebound::soak {

namespace {

using namespace std::chrono_literals;

// Idle means timers and health-check PINGs on a handful of connections:
// well under 1% of a core. A thread that spins takes a whole one. The
// bounds sit far from both, so a loaded machine does not trip them.
constexpr auto idle_window = 1000ms;
constexpr auto max_idle_cpu = 100ms;
constexpr auto max_idle_child_cpu = 50ms;
// Anonymous memory still resident once everything is gone: glibc's cache
// of thread stacks (up to 40 MiB of stacks; their touched pages), arena
// headers, caches that live as long as the process (OpenSSL's, the error
// categories'): bounded, not growing with the run's length. File pages
// (code run for the first time) are not counted. Heap bytes in use are
// the precise leak check.
constexpr std::uint64_t rss_slack = 32ull << 20;
constexpr std::uint64_t heap_slack = 8ull << 20;

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

Baseline take_baseline() {
  pin_allocator_thresholds();
  trim_heap();
  return Baseline{open_fds(), rss_bytes(), rss_anon_bytes(), heap_in_use()};
}

void check_idle_cpu(const std::vector<pid_t>& children, Resources& r, Monitor& monitor) {
  std::this_thread::sleep_for(300ms);  // let the last completions and closes run
  const auto threads_before = thread_cpu();
  std::vector<std::chrono::microseconds> children_before;
  for (pid_t pid : children) children_before.push_back(cpu_of(pid));
  const auto self_before = process_cpu();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(idle_window);
  const auto self = process_cpu() - self_before;
  const auto window = std::chrono::steady_clock::now() - start;
  std::chrono::microseconds kids{0}, worst_kid{0};
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto used = cpu_of(children[i]) - children_before[i];
    kids += used;
    worst_kid = std::max(worst_kid, used);
  }
  ThreadCpu busiest;
  for (const auto& t : thread_cpu()) {
    auto it = std::find_if(threads_before.begin(), threads_before.end(), [&](const auto& b) { return b.tid == t.tid; });
    const auto used = t.cpu - (it == threads_before.end() ? 0us : it->cpu);
    if (used >= busiest.cpu) busiest = {t.tid, t.name, used};
  }
  r.idle_cpu_us = self.count();
  r.idle_children_cpu_us = kids.count();
  r.idle_window_us = std::chrono::duration_cast<std::chrono::microseconds>(window).count();
  r.busiest_idle_thread = busiest.name + " (" + std::to_string(busiest.tid) + "): " +
                          std::to_string(busiest.cpu.count()) + " us";
  if (self > max_idle_cpu)
    monitor.report({"no_spin", std::to_string(self.count() / 1000) + " ms of CPU in an idle " +
                                   std::to_string(r.idle_window_us / 1000) + " ms (bound " +
                                   std::to_string(max_idle_cpu.count()) + " ms)"},
                   "this process", [&] { return "busiest thread: " + r.busiest_idle_thread + "\n"; });
  if (worst_kid > max_idle_child_cpu)
    monitor.report({"no_spin", std::to_string(worst_kid.count() / 1000) + " ms of CPU in an idle second"},
                   "a child `rebound serve`");
}

void check_returned(const Baseline& before, Resources& r, Monitor& monitor) {
  // Sockets of destroyed clients and servers close on their own threads.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (open_fds() > before.fds && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  trim_heap();
  r.fds_before = before.fds;
  r.fds_after = open_fds();
  r.rss_before = before.rss;
  r.rss_after = rss_bytes();
  r.rss_anon_before = before.rss_anon;
  r.rss_anon_after = rss_anon_bytes();
  r.heap_before = before.heap;
  r.heap_after = heap_in_use();
  if (r.fds_after > r.fds_before)
    monitor.report({"fds_return", std::to_string(r.fds_after - r.fds_before) + " more file descriptors than before"},
                   "this process");
  // ASan keeps freed memory in quarantine: its RSS and heap say nothing.
  if (under_asan()) return;
  if (r.rss_anon_after > r.rss_anon_before + rss_slack)
    monitor.report({"rss_returns", "anonymous RSS " + mib(r.rss_anon_after) + " after, " + mib(r.rss_anon_before) +
                                       " before (slack " + mib(rss_slack) + ")"},
                   "this process");
  if (r.heap_after > r.heap_before + heap_slack)
    monitor.report({"heap_returns", "heap in use " + std::to_string(r.heap_after - r.heap_before) +
                                        " bytes above the baseline (slack " + mib(heap_slack) + ")"},
                   "this process");
}

}  // namespace rebound::soak
