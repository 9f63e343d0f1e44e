// What the soak measures about processes: open file descriptors, resident
// memory, heap bytes in use, and CPU time (this process, each of its
// threads, and child processes), all read from /proc and the allocator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::soak {

/// Entries in /proc/self/fd.
std::size_t open_fds();
/// Resident set size in bytes.
std::uint64_t rss_bytes();
/// The anonymous part of it (heap, stacks; /proc/self/status RssAnon): the
/// rest is file pages, such as the code run so far.
std::uint64_t rss_anon_bytes();
/// Heap bytes in use (mallinfo2's uordblks + hblkhd); 0 when unknown.
std::uint64_t heap_in_use();
/// Returns freed heap memory to the system (malloc_trim), so RSS shows
/// what is still allocated rather than what the allocator kept.
void trim_heap();
/// Fixes glibc's mmap and trim thresholds. By default both grow with the
/// largest block freed (up to 32 and 64 MiB), after which each thread
/// arena keeps that much freed memory resident at its top, where
/// malloc_trim does not reach: a soak moving 1 MiB bodies on a dozen
/// threads would end with tens of megabytes "retained" and its RSS check
/// would measure the allocator's policy, not what is still in use.
void pin_allocator_thresholds();
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

}  // namespace rebound::soak
