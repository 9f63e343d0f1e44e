// Fault switches (refuse, reset-next, drop-next, busy-next) shared by the Server's
// fault-injection members, which set them from any thread, and the sessions,
// which read them on the I/O threads. A "next N" switch is a counter that
// sessions claim one unit at a time, so one unit is never used twice.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

namespace rebound::server::detail {

class Faults {
 public:
  void refuse_streams(bool on) { refuse_.store(on, std::memory_order_relaxed); }
  bool refusing() const { return refuse_.load(std::memory_order_relaxed); }

  void reset_next_streams(int count, std::uint32_t error_code) {
    reset_code_.store(error_code, std::memory_order_relaxed);
    reset_left_.store(count, std::memory_order_release);
  }
  /// The error code to reset this HTTP/2 stream with, when it is one of the
  /// next N to reset.
  std::optional<std::uint32_t> claim_stream_reset() {
    if (!claim(reset_left_)) return std::nullopt;
    return reset_code_.load(std::memory_order_relaxed);
  }

  void drop_next_requests(int count) { drop_left_.store(count, std::memory_order_release); }
  /// True when this request is one of the next N whose connection is dropped.
  bool claim_request_drop() { return claim(drop_left_); }

  void answer_busy_next(int count, int status, int retry_after_seconds) {
    busy_status_.store(status, std::memory_order_relaxed);
    busy_seconds_.store(retry_after_seconds, std::memory_order_relaxed);
    busy_left_.store(count, std::memory_order_release);
  }
  struct Busy {
    int status;
    int retry_after_seconds;
  };
  /// The busy answer for this request, when it is one of the next N.
  std::optional<Busy> claim_busy() {
    if (!claim(busy_left_)) return std::nullopt;
    return Busy{busy_status_.load(std::memory_order_relaxed), busy_seconds_.load(std::memory_order_relaxed)};
  }

 private:
  static bool claim(std::atomic<int>& left) {
    int n = left.load(std::memory_order_acquire);
    while (n > 0) {
      if (left.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }

  std::atomic<bool> refuse_{false};
  std::atomic<int> reset_left_{0};
  std::atomic<std::uint32_t> reset_code_{2};
  std::atomic<int> drop_left_{0};
  std::atomic<int> busy_left_{0};
  std::atomic<int> busy_status_{429};
  std::atomic<int> busy_seconds_{1};
};

}  // namespace rebound::server::detail
