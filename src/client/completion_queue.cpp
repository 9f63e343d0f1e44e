// CompletionQueue: one posted handler per batch of completions.
#include "client/completion_queue.hpp"

#include <boost/asio/post.hpp>

namespace rebound::client {

void CompletionQueue::push(Completion completion, Result<Response> result) {
  ready_.emplace_back(std::move(completion), std::move(result));
  if (posted_) return;
  posted_ = true;
  asio::post(executor_, [this] { run_batch(); });
}

void CompletionQueue::run_batch() {
  posted_ = false;
  // A callback may finish more requests (a cancel, a sync error): those go
  // to ready_ and a new batch, never into the vector being walked.
  std::swap(ready_, running_);
  for (auto& [completion, result] : running_)
    std::visit([&](auto& f) { std::move(f)(std::move(result)); }, completion);
  running_.clear();
}

}  // namespace rebound::client
