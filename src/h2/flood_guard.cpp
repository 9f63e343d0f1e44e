// FloodGuard: one-second windows of frames and bytes that carry no response.
#include "h2/flood_guard.hpp"

#include <algorithm>

namespace rebound::h2 {

std::optional<std::string> FloodGuard::on_frame(const nghttp2_frame_hd& hd, Clock::time_point now) {
  // Frames that carry no response bytes cost work without progress.
  // WINDOW_UPDATEs are left out: a long upload earns many.
  const bool idle = (hd.type == NGHTTP2_DATA && hd.length == 0 && !(hd.flags & NGHTTP2_FLAG_END_STREAM)) ||
                    (hd.type == NGHTTP2_SETTINGS && !(hd.flags & NGHTTP2_FLAG_ACK)) ||
                    (hd.type == NGHTTP2_PING && !(hd.flags & NGHTTP2_FLAG_ACK)) || hd.type == NGHTTP2_RST_STREAM ||
                    hd.type == NGHTTP2_PRIORITY || hd.type == NGHTTP2_GOAWAY || hd.type > NGHTTP2_CONTINUATION;
  if (!idle) return std::nullopt;
  if (now - frames_window_ >= std::chrono::seconds(1)) {
    frames_window_ = now;
    idle_frames_ = 0;
  }
  if (++idle_frames_ <= max_idle_frames_per_second) return std::nullopt;
  return "over " + std::to_string(max_idle_frames_per_second) +
         " frames a second without response data (SETTINGS, PING, RST_STREAM, PRIORITY, GOAWAY, "
         "unknown or empty DATA)";
}

std::optional<std::string> FloodGuard::on_read(std::size_t received, std::size_t limit, Clock::time_point now) {
  const std::size_t used = used_;
  used_ = 0;
  // More than a whole connection window of unused bytes in a second is a
  // server that does not stop, not data still in flight for a stream we reset.
  if (now - bytes_window_ >= std::chrono::seconds(1)) {
    bytes_window_ = now;
    unused_bytes_ = 0;
  }
  unused_bytes_ += received - std::min(received, used);
  if (unused_bytes_ <= limit) return std::nullopt;
  return "over " + std::to_string(limit) + " bytes a second for no open stream";
}

}  // namespace rebound::h2
