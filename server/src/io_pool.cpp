// IoPool: see io_pool.hpp.
#include "io_pool.hpp"

namespace rebound::server::detail {

IoPool::IoPool(unsigned threads) {
  const unsigned n = threads == 0 ? 1 : threads;
  for (unsigned i = 0; i < n; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
  }
}

IoPool::~IoPool() { shutdown(std::chrono::seconds(2)); }

boost::asio::any_io_executor IoPool::next_executor() {
  const unsigned i = next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size();
  return contexts_[i]->get_executor();
}

void IoPool::run() {
  for (auto& ctx : contexts_) guards_.emplace_back(ctx->get_executor());
  for (auto& ctx : contexts_) {
    threads_.emplace_back([this, ctx = ctx.get()] {
      ctx->run();
      std::lock_guard lock(mutex_);
      ++finished_;
      finished_cv_.notify_all();
    });
  }
}

void IoPool::shutdown(std::chrono::milliseconds deadline) {
  if (threads_.empty()) return;
  for (auto& guard : guards_) guard.reset();
  {
    std::unique_lock lock(mutex_);
    const bool done = finished_cv_.wait_for(lock, deadline, [&] { return finished_ == threads_.size(); });
    // Something still holds work (a bug, or an operation that ignores
    // cancellation): stop rather than hang the caller.
    if (!done) {
      for (auto& ctx : contexts_) ctx->stop();
    }
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  guards_.clear();
}

}  // namespace rebound::server::detail
