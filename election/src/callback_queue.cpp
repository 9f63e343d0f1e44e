// The elector's callback thread: see callback_queue.hpp.
#include "callback_queue.hpp"

namespace rebound::lease::detail {

CallbackQueue::CallbackQueue(std::chrono::milliseconds close_bound)
    : close_bound_(close_bound), thread_([state = state_] { loop(state); }) {}

CallbackQueue::~CallbackQueue() {
  bool finished = false;
  {
    std::unique_lock lock(state_->mutex);
    state_->closing = true;
    state_->changed.notify_all();
    finished = state_->changed.wait_for(lock, close_bound_, [&] { return state_->done == state_->posted; });
    if (!finished) state_->abandoned = true;
  }
  // A callback still running past the bound keeps the state alive and
  // returns on its own; it never touches the elector (see post()).
  if (finished) thread_.join();
  else thread_.detach();
}

void CallbackQueue::post(std::function<void()> f) {
  std::lock_guard lock(state_->mutex);
  state_->queue.push_back(std::move(f));
  ++state_->posted;
  state_->changed.notify_all();
}

bool CallbackQueue::drain_for(std::chrono::milliseconds bound) {
  if (on_queue_thread()) return true;
  std::unique_lock lock(state_->mutex);
  const auto target = state_->posted;
  return state_->changed.wait_for(lock, bound, [&] { return state_->done >= target; });
}

void CallbackQueue::loop(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mutex);
  for (;;) {
    state->changed.wait(lock, [&] { return state->closing || !state->queue.empty(); });
    if (state->queue.empty() || state->abandoned) return;  // closing, and everything ran (or dropped)
    auto f = std::move(state->queue.front());
    state->queue.pop_front();
    lock.unlock();
    f();
    f = nullptr;  // what the task owned goes here, not under the lock
    lock.lock();
    ++state->done;
    state->changed.notify_all();
  }
}

}  // namespace rebound::lease::detail
