// One leadership term's on_started_leading, on a thread of its own so that
// it may run the work until its stop token is requested (client-go's idiom)
// without holding up on_stopped_leading or the events. The thread is
// detached at once and owns copies only (the callable, the token, the
// "returned" flag), so nothing of the elector has to outlive it.
//
// Thread safety: request_stop() and wait_returned() from any thread.
#pragma once

#include "rebound/election/leader_elector.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>

namespace rebound::lease::detail {

class TermThread {
 public:
  /// Calls `callback(token)` on a new detached thread; on the calling
  /// thread when no thread can be started (it must then return promptly).
  /// `owner` (the elector) is what running_for() says on that thread.
  TermThread(const StartedLeading& callback, const void* owner);
  /// The owner whose on_started_leading the calling thread is running, or
  /// null: stop() called from there must not wait for the election.
  static const void* running_for() noexcept;
  TermThread(const TermThread&) = delete;
  TermThread& operator=(const TermThread&) = delete;

  /// The term ended: the callback's token is requested.
  void request_stop() noexcept { stop_.request_stop(); }
  /// Waits until the callback returned, at most `bound`; false if it had not.
  bool wait_returned(std::chrono::milliseconds bound) const;

 private:
  struct Returned {
    std::mutex mutex;
    std::condition_variable changed;
    bool yes = false;
  };
  std::stop_source stop_;
  std::shared_ptr<Returned> returned_ = std::make_shared<Returned>();
};

}  // namespace rebound::lease::detail
