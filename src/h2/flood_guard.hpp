// Flood detection for one HTTP/2 connection: counts what a server sends
// that carries no response - frames without response data, and bytes that
// reach no live stream - per one-second window, and says when either passes
// its limit. A server over a limit is attacking, not talking; the
// connection answers with GOAWAY(ENHANCE_YOUR_CALM). Pure bookkeeping: time
// is a parameter. One connection's, on its I/O thread.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace rebound::h2 {

class FloodGuard {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int max_idle_frames_per_second = 1000;

  /// A frame header arrived. Returns why, once frames without response
  /// data (SETTINGS, PING, RST_STREAM, PRIORITY, GOAWAY, unknown, empty
  /// DATA) pass the limit in the current second.
  std::optional<std::string> on_frame(const nghttp2_frame_hd& hd, Clock::time_point now);
  /// `n` bytes of the current read reached a live stream (a header field,
  /// DATA for an open stream).
  void count_used(std::size_t n) { used_ += n; }
  /// A read of `received` bytes ended; those not counted as used since the
  /// last read reached no live stream (nghttp2 drops them without a
  /// callback). Returns why, once more than `limit` unused bytes arrived in
  /// the current second.
  std::optional<std::string> on_read(std::size_t received, std::size_t limit, Clock::time_point now);

 private:
  Clock::time_point frames_window_{};
  int idle_frames_ = 0;
  Clock::time_point bytes_window_{};
  std::size_t unused_bytes_ = 0;
  std::size_t used_ = 0;  // of the current read
};

}  // namespace rebound::h2
