// The elector's callback thread: see callback_queue.hpp.
#include "callback_queue.hpp"

namespace rebound::lease::detail {

CallbackQueue::CallbackQueue() : thread_([this] { loop(); }) {}

CallbackQueue::~CallbackQueue() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void CallbackQueue::post(std::function<void()> f) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(f));
    ++posted_;
  }
  changed_.notify_all();
}

void CallbackQueue::drain() {
  if (on_queue_thread()) return;
  std::unique_lock lock(mutex_);
  const auto target = posted_;
  changed_.wait(lock, [&] { return done_ >= target; });
}

void CallbackQueue::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and everything ran
    auto f = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    f();
    lock.lock();
    ++done_;
    changed_.notify_all();
  }
}

}  // namespace rebound::lease::detail
