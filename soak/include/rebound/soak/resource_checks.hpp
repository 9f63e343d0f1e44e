// The soak's end-of-run resource invariants: nothing spins once the
// traffic stops (CPU over an idle second, this process and the child
// servers), and once every client, proxy and server is gone the process is
// back to its baseline of file descriptors, resident memory and heap.
#pragma once

#include <rebound/soak/monitor.hpp>
#include <rebound/soak/report.hpp>

#include <sys/types.h>
#include <vector>

namespace rebound::soak {

struct Baseline {
  std::size_t fds = 0;
  std::uint64_t rss = 0;
  std::uint64_t rss_anon = 0;
  std::uint64_t heap = 0;
};
/// Pins the allocator's thresholds and trims the heap first, so before and
/// after compare like with like.
Baseline take_baseline();

/// Measures CPU over one idle second (clients, servers and proxies alive,
/// no requests) into `r`, and reports a spinning thread or child.
void check_idle_cpu(const std::vector<pid_t>& children, Resources& r, Monitor& monitor);

/// Waits (up to 10 s) for fds to return to `before`, then compares fds,
/// RSS and heap with it, into `r`, reporting what did not return.
void check_returned(const Baseline& before, Resources& r, Monitor& monitor);

}  // namespace rebound::soak
