// The elector's callback thread: leadership callbacks and events run here,
// in the order they were posted, so a callback that blocks (a slow
// on_started_leading, a stalled log sink) never stops the renewal loop -
// leadership is bounded by time (valid_until), not by the callbacks.
//
// Thread safety: post() and drain() from any thread except the queue's own
// (drain() from a callback would wait for itself; it returns at once there).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace rebound::lease::detail {

class CallbackQueue {
 public:
  CallbackQueue();
  /// Runs what was posted, then ends the thread.
  ~CallbackQueue();
  CallbackQueue(const CallbackQueue&) = delete;
  CallbackQueue& operator=(const CallbackQueue&) = delete;

  void post(std::function<void()> f);
  /// Waits until everything posted before this call has run.
  void drain();
  /// True on the queue's own thread (inside a callback).
  bool on_queue_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  std::uint64_t posted_ = 0;
  std::uint64_t done_ = 0;
  bool closing_ = false;
  std::thread thread_;  // last: starts once the rest exists
};

}  // namespace rebound::lease::detail
