// Counters updated on I/O threads and snapshotted from any thread.
#pragma once

#include <rebound/events.hpp>

#include <atomic>

namespace rebound::inflight {

struct AtomicCounters {
  std::atomic<std::uint64_t> requests_started{0};
  std::atomic<std::uint64_t> requests_succeeded{0};
  std::atomic<std::uint64_t> requests_failed{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> dials{0};
  std::atomic<std::uint64_t> dial_failures{0};
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_closed{0};

  /// Adds this shard's figures to `sum`.
  void add_to(Counters& sum) const noexcept {
    sum.requests_started += requests_started.load(std::memory_order_relaxed);
    sum.requests_succeeded += requests_succeeded.load(std::memory_order_relaxed);
    sum.requests_failed += requests_failed.load(std::memory_order_relaxed);
    sum.retries += retries.load(std::memory_order_relaxed);
    sum.dials += dials.load(std::memory_order_relaxed);
    sum.dial_failures += dial_failures.load(std::memory_order_relaxed);
    sum.connections_open += connections_open.load(std::memory_order_relaxed);
    sum.connections_closed += connections_closed.load(std::memory_order_relaxed);
  }
};

}  // namespace rebound::inflight
