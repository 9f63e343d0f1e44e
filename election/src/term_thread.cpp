// One term's on_started_leading on its own thread: see term_thread.hpp.
#include "term_thread.hpp"

#include <system_error>
#include <thread>
#include <utility>

namespace rebound::lease::detail {

namespace {
thread_local const void* running_owner = nullptr;
}

const void* TermThread::running_for() noexcept { return running_owner; }

TermThread::TermThread(const StartedLeading& callback, const void* owner) {
  auto run = [callback, token = stop_.get_token(), returned = returned_, owner]() {
    const void* outer = std::exchange(running_owner, owner);
    callback(token);
    running_owner = outer;
    std::lock_guard lock(returned->mutex);
    returned->yes = true;
    returned->changed.notify_all();
  };
  try {
    std::thread(run).detach();
  } catch (const std::system_error&) {
    run();  // no thread to be had (a thread limit): the void() form still works
  }
}

bool TermThread::wait_returned(std::chrono::milliseconds bound) const {
  std::unique_lock lock(returned_->mutex);
  return returned_->changed.wait_for(lock, bound, [&] { return returned_->yes; });
}

}  // namespace rebound::lease::detail
