// What the soak measures about processes: open file descriptors, resident
// memory, heap bytes in use, and CPU time (this process, each of its
// threads, and child processes), all read from /proc and the allocator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::cli::soak {

/// Entries in /proc/self/fd.
std::size_t open_fds();
/// Resident set size in bytes.
std::uint64_t rss_bytes();
/// Heap bytes in use (mallinfo2's uordblks + hblkhd); 0 when unknown.
std::uint64_t heap_in_use();
/// Returns freed heap memory to the system (malloc_trim), so RSS shows
/// what is still allocated rather than what the allocator kept.
void trim_heap();
/// CPU time (user + system) this process used so far.
std::chrono::microseconds process_cpu();
/// CPU time (user + system) of another process so far; 0 when gone.
std::chrono::microseconds cpu_of(pid_t pid);

/// Per-thread CPU time, to name a spinning thread.
struct ThreadCpu {
  pid_t tid = 0;
  std::string name;
  std::chrono::microseconds cpu{0};
};
std::vector<ThreadCpu> thread_cpu();

/// True when built with AddressSanitizer: its allocator keeps freed memory
/// in quarantine, so RSS and heap figures say nothing about leaks.
bool under_asan();

}  // namespace rebound::cli::soak
