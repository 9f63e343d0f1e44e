// BodyWriter and the state it shares with the transport; see
// <rebound/body_writer.hpp> and body_writer_state.hpp.
#include "inflight/body_writer_state.hpp"

#include <algorithm>
#include <cstring>

namespace rebound {

BodyWriter::BodyWriter(std::size_t limit) : state_(std::make_shared<detail::BodyWriterState>(limit)) {}

BodyWriter::WriteResult BodyWriter::write(std::string_view bytes) { return state_->write(bytes); }
bool BodyWriter::finish() { return state_->finish(); }
bool BodyWriter::wait_writable(std::chrono::milliseconds timeout) const { return state_->wait_writable(timeout); }
bool BodyWriter::closed() const { return state_->closed(); }
bool BodyWriter::ended() const { return state_->ended(); }
std::size_t BodyWriter::unsent() const { return state_->unsent(); }

namespace detail {

BodyWriter::WriteResult BodyWriterState::write(std::string_view bytes) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (finished_ || ended_) return BodyWriter::WriteResult::closed;
    if (bytes.empty()) return BodyWriter::WriteResult::written;
    if (data_.size() - cursor_ >= limit_) return BodyWriter::WriteResult::full;
    data_.append(bytes);
    if (waiting_for_data_) {
      waiting_for_data_ = false;
      wake = wake_;
    }
  }
  // Outside the lock: it posts to the I/O thread, which may be pulling.
  if (wake) wake();
  return BodyWriter::WriteResult::written;
}

bool BodyWriterState::finish() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (finished_ || ended_) return false;
    finished_ = true;
    if (waiting_for_data_) {
      waiting_for_data_ = false;
      wake = wake_;
    }
  }
  changed_.notify_all();
  if (wake) wake();
  return true;
}

bool BodyWriterState::wait_writable(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return finished_ || ended_ || data_.size() - cursor_ < limit_; });
  return !finished_ && !ended_ && data_.size() - cursor_ < limit_;
}

bool BodyWriterState::closed() const {
  std::lock_guard lock(mutex_);
  return finished_ || ended_;
}

bool BodyWriterState::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

std::size_t BodyWriterState::unsent() const {
  std::lock_guard lock(mutex_);
  return data_.size() - cursor_;
}

bool BodyWriterState::claim() {
  std::lock_guard lock(mutex_);
  if (claimed_) return false;
  claimed_ = true;
  return true;
}

void BodyWriterState::start_attempt(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  // Not replayable: the pool does not start another attempt (the retry
  // table's replayable-body condition), so this is the first one.
  if (replayable_) {
    cursor_ = 0;
    sent_ = 0;
  }
  waiting_for_data_ = false;
  wake_ = std::move(wake);
}

BodyWriterState::Pulled BodyWriterState::pull(std::uint8_t* buf, std::size_t length) {
  Pulled p;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return {0, true, false};
    const std::size_t n = std::min(length, data_.size() - cursor_);
    if (n == 0 && !finished_) {
      waiting_for_data_ = true;
      p.deferred = true;
      return p;
    }
    std::memcpy(buf, data_.data() + cursor_, n);
    cursor_ += n;
    sent_ += n;
    // More sent than a replay may keep: this attempt is the only one.
    if (replayable_ && sent_ > limit_) replayable_ = false;
    if (!replayable_) drop_sent_locked();
    p.bytes = n;
    p.end = finished_ && cursor_ == data_.size();
  }
  changed_.notify_all();  // room for a writer waiting in wait_writable()
  return p;
}

void BodyWriterState::drop_sent_locked() {
  // Amortised: the unsent tail moves only when the sent head is at least as
  // large (or everything was sent), so each byte is moved O(1) times.
  if (cursor_ == 0) return;
  if (cursor_ == data_.size()) data_.clear();
  else if (cursor_ * 2 >= data_.size()) data_.erase(0, cursor_);
  else return;
  cursor_ = 0;
}

void BodyWriterState::response_started() {
  std::lock_guard lock(mutex_);
  replayable_ = false;
  drop_sent_locked();
}

bool BodyWriterState::replayable() const {
  std::lock_guard lock(mutex_);
  return replayable_;
}

void BodyWriterState::end() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    replayable_ = false;
    waiting_for_data_ = false;
    data_.clear();
    data_.shrink_to_fit();
    cursor_ = 0;
    wake.swap(wake_);  // destroyed outside the lock: it holds the connection's weak handle
  }
  changed_.notify_all();
}

}  // namespace detail
}  // namespace rebound
