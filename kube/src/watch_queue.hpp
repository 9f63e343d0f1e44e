// The hand-off between the I/O thread, which cuts a watch stream into
// lines, and the run() thread, which parses and delivers them: a FIFO
// bounded in bytes, so that callbacks slower than the stream cannot grow
// memory without limit. A line that would take the queue past its bound is
// dropped, and so is every later line of that stream: the watcher then
// cancels the stream and resumes from the last version it delivered (see
// watcher.hpp for why it cuts rather than pauses).
//
// Thread safety: push_* from the stream's I/O thread, pop* from the run()
// thread, restart() between streams; every member takes the queue's lock.
#pragma once

#include <rebound/error.hpp>
#include <rebound/response.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace rebound::kube::detail {

/// The stream's end: the request's outcome (its status, or how it failed),
/// and the start of its body (which went to the sink, not the Response).
struct StreamEnd {
  Result<Response> result;
  std::string body_start;
};
using StreamItem = std::variant<std::string, StreamEnd>;

class WatchQueue {
 public:
  explicit WatchQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Empties the queue for the next stream.
  void restart();
  /// Queues `line` unless the lines held would then exceed the bound. A
  /// line always fits an empty queue, so even one larger than the bound
  /// is delivered and every stream makes progress. False: dropped, with
  /// every later line of this stream (cut the stream).
  bool push_line(std::string_view line);
  /// Always queued: the run thread waits for it.
  void push_end(StreamEnd end);

  StreamItem pop();
  /// The next item, or nullopt once `deadline` passed without one.
  std::optional<StreamItem> pop_until(std::chrono::steady_clock::time_point deadline);

  /// The current stream lost lines to the bound.
  bool overflowed() const;
  std::uint64_t overflows() const;   ///< streams that lost lines to the bound
  std::uint64_t peak_bytes() const;  ///< the most line bytes ever held at once

 private:
  StreamItem take_front();  // with the lock held, the queue not empty

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<StreamItem> items_;
  std::size_t bytes_ = 0;
  bool overflowed_ = false;
  std::uint64_t overflows_ = 0;
  std::uint64_t peak_bytes_ = 0;
};

}  // namespace rebound::kube::detail
