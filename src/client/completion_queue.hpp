// A shard's finished requests, handed to their callers in batches. A read
// that completes 100 streams queues 100 completions and posts one handler
// that runs up to 32 of them, then re-posts itself for the rest, instead of
// 100 posted handlers (each a type-erased executor call, an operation
// allocation and a scheduler round trip: ~8% of a small request's
// instructions). The slices let the requests their callbacks start be
// written between slices. Completions never run inside rebound's own call
// stack, and run in the order they finished. Single-threaded: used on its
// shard's I/O thread.
#pragma once

#include "client/exchange.hpp"

#include <boost/asio/io_context.hpp>

#include <utility>
#include <vector>

namespace rebound::client {

class CompletionQueue {
 public:
  explicit CompletionQueue(asio::io_context::executor_type executor) : executor_(executor) {}
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  /// Runs `completion(result)` soon, from a handler of its own.
  void push(Completion completion, Result<Response> result);

 private:
  void run_batch();

  asio::io_context::executor_type executor_;
  std::vector<std::pair<Completion, Result<Response>>> ready_;
  std::vector<std::pair<Completion, Result<Response>>> running_;  // kept for its capacity
  bool posted_ = false;
};

}  // namespace rebound::client
