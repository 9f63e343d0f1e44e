// Records the completions of a batch of requests so a test can prove each
// completed exactly once (never zero times, never twice) and wait for them
// with a bound instead of hanging until ctest's timeout.
//
// The record is shared with the callbacks: a test that leaves early (a
// failed ASSERT) may destroy its Completions before the client completes
// the requests, and those late callbacks must not write into freed memory
// and crash the tests that follow.
#pragma once

#include <rebound/rebound.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace rebound::testing {

class Completions {
 public:
  explicit Completions(std::size_t n) : s_(std::make_shared<State>(n)) {}

  /// The callback for request `i`.
  std::function<void(Result<Response>)> callback(std::size_t i) {
    return [s = s_, i](Result<Response> r) {
      std::lock_guard lock(s->mutex);
      if (++s->counts[i] == 1) {
        s->results[i].emplace(std::move(r));
        ++s->completed;
      } else {
        ++s->duplicates;
      }
      s->changed.notify_all();
    };
  }

  /// Waits until every request has completed; false when `timeout` passed first.
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(s_->mutex);
    return s_->changed.wait_for(lock, timeout, [&] { return s_->completed == s_->results.size(); });
  }

  std::size_t completed() const {
    std::lock_guard lock(s_->mutex);
    return s_->completed;
  }
  std::size_t duplicates() const {
    std::lock_guard lock(s_->mutex);
    return s_->duplicates;
  }
  std::size_t size() const { return s_->results.size(); }
  /// Request `i`'s result (call after wait() returned true).
  const Result<Response>& result(std::size_t i) const { return *s_->results[i]; }
  std::size_t succeeded() const {
    std::lock_guard lock(s_->mutex);
    std::size_t n = 0;
    for (const auto& r : s_->results) n += r && *r ? 1 : 0;
    return n;
  }

 private:
  struct State {
    explicit State(std::size_t n) : results(n), counts(n, 0) {}
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::optional<Result<Response>>> results;
    std::vector<int> counts;
    std::size_t completed = 0;
    std::size_t duplicates = 0;
  };
  std::shared_ptr<State> s_;
};

}  // namespace rebound::testing
