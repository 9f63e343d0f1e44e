// Records the completions of a batch of requests so a test can prove each
// completed exactly once (never zero times, never twice) and wait for them
// with a bound instead of hanging until ctest's timeout.
#pragma once

#include <rebound/rebound.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace rebound::testing {

class Completions {
 public:
  explicit Completions(std::size_t n) : results_(n), counts_(n, 0) {}

  /// The callback for request `i`.
  std::function<void(Result<Response>)> callback(std::size_t i) {
    return [this, i](Result<Response> r) {
      std::lock_guard lock(mutex_);
      if (++counts_[i] == 1) {
        results_[i].emplace(std::move(r));
        ++completed_;
      } else {
        ++duplicates_;
      }
      changed_.notify_all();
    };
  }

  /// Waits until every request has completed; false when `timeout` passed first.
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return completed_ == results_.size(); });
  }

  std::size_t completed() const {
    std::lock_guard lock(mutex_);
    return completed_;
  }
  std::size_t duplicates() const {
    std::lock_guard lock(mutex_);
    return duplicates_;
  }
  std::size_t size() const { return results_.size(); }
  /// Request `i`'s result (call after wait() returned true).
  const Result<Response>& result(std::size_t i) const { return *results_[i]; }
  std::size_t succeeded() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : results_) n += r && *r ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::optional<Result<Response>>> results_;
  std::vector<int> counts_;
  std::size_t completed_ = 0;
  std::size_t duplicates_ = 0;
};

}  // namespace rebound::testing
