// ResponseStream: see rebound/server/response_stream.hpp. One mutex guards
// the state and the queued bytes; callbacks (the session's wake-up, the
// producer's on_end) always run after it is released, so either side may call
// back into the stream from them.
#include "rebound/server/response_stream.hpp"

#include <utility>

namespace rebound::server {

std::function<void()> ResponseStream::end_locked(State next) {
  if (state_ != State::open) return {};
  state_ = next;
  if (next == State::cancelled) std::string().swap(pending_);
  return std::exchange(on_end_, nullptr);
}

void ResponseStream::notify(std::function<void()> wake, std::function<void()> ended) {
  if (wake) wake();
  if (ended) ended();
}

bool ResponseStream::write(std::string_view bytes) {
  std::function<void()> wake, ended;
  bool accepted = false;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::open) return false;
    if (pending_.size() + bytes.size() > max_pending_) {
      // A client that stopped reading: give up on it rather than grow without bound.
      ended = end_locked(State::cancelled);
      if (std::exchange(waiting_, false)) wake = wake_;
    } else {
      pending_.append(bytes);
      accepted = true;
      if (std::exchange(waiting_, false)) wake = wake_;
    }
  }
  notify(std::move(wake), std::move(ended));
  return accepted;
}

void ResponseStream::close() {
  std::function<void()> wake, ended;
  {
    std::lock_guard lock(mutex_);
    ended = end_locked(State::closed);
    if (std::exchange(waiting_, false)) wake = wake_;
  }
  notify(std::move(wake), std::move(ended));
}

void ResponseStream::cancel() {
  std::function<void()> wake, ended;
  {
    std::lock_guard lock(mutex_);
    ended = end_locked(State::cancelled);
    if (std::exchange(waiting_, false)) wake = wake_;
  }
  notify(std::move(wake), std::move(ended));
}

void ResponseStream::drain() {
  std::function<void()> wake, ended;
  {
    std::lock_guard lock(mutex_);
    ended = end_locked(State::drained);
    if (std::exchange(waiting_, false)) wake = wake_;
  }
  notify(std::move(wake), std::move(ended));
}

ResponseStream::State ResponseStream::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void ResponseStream::on_end(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::open) {
      on_end_ = std::move(callback);
      return;
    }
  }
  callback();
}

void ResponseStream::attach(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

ResponseStream::Chunk ResponseStream::take(std::size_t max) {
  std::lock_guard lock(mutex_);
  Chunk chunk;
  if (state_ == State::cancelled) {
    chunk.cancelled = true;
    return chunk;
  }
  if (pending_.size() <= max) {
    chunk.data.swap(pending_);
  } else {
    chunk.data.assign(pending_, 0, max);
    pending_.erase(0, max);
  }
  chunk.finished = state_ != State::open && pending_.empty();
  // Nothing (more) to send now: the next write or end wakes the session.
  if (pending_.empty() && state_ == State::open) waiting_ = true;
  return chunk;
}

}  // namespace rebound::server
