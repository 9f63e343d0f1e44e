// CompletionQueue: one posted handler per slice of completions.
#include "inflight/completion_queue.hpp"

#include <boost/asio/post.hpp>

namespace rebound::inflight {

namespace {
// Completions per handler. After each slice the writes of the requests its
// callbacks started go out (their flush is queued behind the slice), so in a
// closed loop the server works on the first slice while the rest run (an A/B
// at 1x100 over TLS: 108-139k req/s unsliced, 158-235k in slices of 32, at
// the same CPU). Smaller slices cost more writes; larger ones overlap less.
constexpr std::size_t batch_limit = 32;
// The queue whose user code this thread is running, if any.
thread_local const CompletionQueue* running_user_code_of = nullptr;
}  // namespace

CompletionQueue::UserCodeScope::UserCodeScope(const CompletionQueue* q) : previous(running_user_code_of) {
  running_user_code_of = q;
}
CompletionQueue::UserCodeScope::~UserCodeScope() { running_user_code_of = previous; }

bool CompletionQueue::running_user_code() const noexcept { return running_user_code_of == this; }

void CompletionQueue::push(Completion&& completion, Result<Response>&& result) {
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
  UserCodeScope scope(this);
  const std::size_t n = std::min(running_.size(), batch_limit);
  for (std::size_t i = 0; i < n; ++i) {
    auto& [completion, result] = running_[i];
    run_completion(completion, std::move(result), threw_);  // a throw is counted, the batch goes on
  }
  if (n < running_.size()) {
    // The rest after the handlers already queued (the writes of the
    // requests these callbacks started): the server works on those while
    // we run the rest, instead of waiting for the whole batch.
    ready_.insert(ready_.begin(), std::make_move_iterator(running_.begin() + n),
                  std::make_move_iterator(running_.end()));
    if (!posted_) {
      posted_ = true;
      asio::post(executor_, [this] { run_batch(); });
    }
  }
  running_.clear();
}

}  // namespace rebound::inflight
