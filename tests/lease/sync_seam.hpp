// Test control of the Lease store's fsyncs (lease_server/src/atomic_file.hpp's seam):
// fsync cannot honestly be made to fail, or to take long, on a test
// machine's filesystem, so tests make it do either through this.
#pragma once

#include "atomic_file.hpp"

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unistd.h>

namespace rebound::lease::testing {

/// Installs a sync function for one test, and ::fsync again after it.
struct SyncSeam {
  explicit SyncSeam(detail::SyncFunction f) { detail::set_sync_function_for_tests(std::move(f)); }
  ~SyncSeam() { detail::set_sync_function_for_tests({}); }
  SyncSeam(const SyncSeam&) = delete;
  SyncSeam& operator=(const SyncSeam&) = delete;
};

/// A sync function that fails the fsyncs of `target` with EIO.
inline detail::SyncFunction failing_sync(detail::SyncTarget target) {
  return [target](int fd, detail::SyncTarget what) {
    if (what != target) return ::fsync(fd);
    errno = EIO;
    return -1;
  };
}

/// Holds the first fsync of a file in the store until released (or 10 s
/// passed): a write caught in the middle of being made durable.
class HeldSync {
 public:
  detail::SyncFunction function() {
    return [state = state_](int fd, detail::SyncTarget what) {
      if (what == detail::SyncTarget::file) {
        std::unique_lock lock(state->m);
        if (!state->entered) {
          state->entered = true;
          state->cv.notify_all();
          state->cv.wait_for(lock, std::chrono::seconds(10), [&] { return state->released; });
        }
      }
      return ::fsync(fd);
    };
  }
  /// Until a write is inside its fsync (at most `timeout`).
  bool wait_entered(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->m);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->entered; });
  }
  void release() {
    std::lock_guard lock(state_->m);
    state_->released = true;
    state_->cv.notify_all();
  }
  ~HeldSync() { release(); }

  /// Releases on scope exit: declared after the write's future, it lets a
  /// test that fails early end at once instead of when the hold times out.
  struct ReleaseOnExit {
    HeldSync& held;
    ~ReleaseOnExit() { held.release(); }
  };

 private:
  struct State {
    std::mutex m;
    std::condition_variable cv;
    bool entered = false;
    bool released = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace rebound::lease::testing
