// The elector's callback thread: on_stopped_leading, on_new_leader and
// events run here, in the order they were posted, so a callback that blocks
// (a slow on_stopped_leading, a stalled log sink) never stops the renewal
// loop - leadership is bounded by time (valid_until), not by the
// callbacks. on_started_leading runs on a thread of its own per term
// (elector_callbacks.cpp).
//
// Tasks must own what they use (copies of the user's callbacks, never the
// elector): a queue whose callback does not return within the bound given
// to its destructor leaves that thread running on its own, detached, and
// drops what was still queued.
//
// Thread safety: post() and drain_for() from any thread; drain_for() on the
// queue's own thread (inside a callback) returns true at once rather than
// wait for itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace rebound::lease::detail {

class CallbackQueue {
 public:
  /// `close_bound`: how long the destructor waits for a running callback.
  explicit CallbackQueue(std::chrono::milliseconds close_bound);
  /// Runs what was posted, then ends the thread - or, when a callback has
  /// not returned within the bound, detaches it and drops the rest.
  ~CallbackQueue();
  CallbackQueue(const CallbackQueue&) = delete;
  CallbackQueue& operator=(const CallbackQueue&) = delete;

  void post(std::function<void()> f);
  /// Waits until everything posted before this call has run, at most
  /// `bound`; false when it had not by then.
  bool drain_for(std::chrono::milliseconds bound);
  /// True on the queue's own thread (inside a callback).
  bool on_queue_thread() const noexcept { return std::this_thread::get_id() == thread_id_; }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::function<void()>> queue;
    std::uint64_t posted = 0;
    std::uint64_t done = 0;
    bool closing = false;
    bool abandoned = false;  // the destructor gave up waiting: drop the rest
  };
  static void loop(const std::shared_ptr<State>& state);

  std::chrono::milliseconds close_bound_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;  // after state_: starts once it exists
  std::thread::id thread_id_ = thread_.get_id();
};

}  // namespace rebound::lease::detail
