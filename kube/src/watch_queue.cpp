// The bounded line queue between a watch stream and its callbacks; see
// watch_queue.hpp.
#include "watch_queue.hpp"

#include <algorithm>

namespace rebound::kube::detail {

void WatchQueue::restart() {
  std::lock_guard lock(mutex_);
  items_.clear();
  bytes_ = 0;
  overflowed_ = false;
}

bool WatchQueue::push_line(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (overflowed_) return false;
  if (bytes_ > 0 && bytes_ + line.size() > max_bytes_) {
    // Once a line is missing the stream cannot go on: what follows it
    // would be delivered across a hole.
    overflowed_ = true;
    ++overflows_;
    return false;
  }
  items_.emplace_back(std::string(line));
  bytes_ += line.size();
  peak_bytes_ = std::max<std::uint64_t>(peak_bytes_, bytes_);
  // Notified under the lock: once the run thread can take a stream's end
  // it may return, and ~Watcher may destroy this queue - a notify after
  // the unlock could touch a dead condition variable.
  ready_.notify_all();
  return true;
}

void WatchQueue::push_end(StreamEnd end) {
  std::lock_guard lock(mutex_);
  items_.emplace_back(std::move(end));
  ready_.notify_all();  // under the lock: see push_line
}

StreamItem WatchQueue::take_front() {
  StreamItem item = std::move(items_.front());
  items_.pop_front();
  if (const auto* line = std::get_if<std::string>(&item)) bytes_ -= line->size();
  return item;
}

StreamItem WatchQueue::pop() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !items_.empty(); });
  return take_front();
}

std::optional<StreamItem> WatchQueue::pop_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_until(lock, deadline, [&] { return !items_.empty(); })) return std::nullopt;
  return take_front();
}

bool WatchQueue::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

std::uint64_t WatchQueue::overflows() const {
  std::lock_guard lock(mutex_);
  return overflows_;
}

std::uint64_t WatchQueue::peak_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_bytes_;
}

}  // namespace rebound::kube::detail
