// A shard's finished requests, handed to their callers in batches. A read
// that completes 100 streams queues 100 completions and posts one handler
// that runs up to 32 of them, then re-posts itself for the rest, instead of
// 100 posted handlers (each a type-erased executor call, an operation
// allocation and a scheduler round trip: ~8% of a small request's
// instructions). The slices let the requests their callbacks start be
// written between slices. Completions never run inside rebound's own call
// stack, and run in the order they finished. Single-threaded: used on its
// shard's I/O thread (or strand).
#pragma once

#include "inflight/exchange.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

namespace rebound::inflight {

class CompletionQueue {
 public:
  explicit CompletionQueue(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  /// Runs `completion(result)` soon, from a handler of its own.
  void push(Completion&& completion, Result<Response>&& result);
  /// A second completion of one exchange was dropped (a bug; see Exchange::complete).
  void count_dropped() noexcept { dropped_.fetch_add(1, std::memory_order_relaxed); }
  /// Readable from any thread.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  /// Completions that threw (Counters::callbacks_threw), wherever rebound
  /// ran them for this queue's shard; readable from any thread.
  const std::shared_ptr<std::atomic<std::uint64_t>>& throw_count() const noexcept { return threw_; }
  /// True while this thread runs user code delivered by this queue (or by
  /// run_user_code): a safe point, with no engine operation on the stack.
  bool running_user_code() const noexcept;
  /// Runs `f` (user code: an event hook) marked as such.
  template <class F>
  void run_user_code(F&& f) {
    UserCodeScope scope(this);
    f();
  }

 private:
  void run_batch();
  struct UserCodeScope {
    explicit UserCodeScope(const CompletionQueue* q);
    ~UserCodeScope();
    const CompletionQueue* previous;
  };

  asio::any_io_executor executor_;  // the shard's io_context, or its strand of the caller's executor
  std::vector<std::pair<Completion, Result<Response>>> ready_;
  std::vector<std::pair<Completion, Result<Response>>> running_;  // kept for its capacity
  bool posted_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::shared_ptr<std::atomic<std::uint64_t>> threw_ = std::make_shared<std::atomic<std::uint64_t>>(0);
};

}  // namespace rebound::inflight
