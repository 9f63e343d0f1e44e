// DeadlineQueue: the ordered list and its one timer.
#include "inflight/deadline_queue.hpp"

namespace rebound::inflight {

DeadlineQueue::DeadlineQueue(asio::any_io_executor executor, std::function<void(Exchange&)> on_expired)
    : timer_(std::move(executor)), on_expired_(std::move(on_expired)) {}

DeadlineQueue::~DeadlineQueue() {
  while (head_) remove(*head_);
}

void DeadlineQueue::add(Exchange& ex) {
  remove(ex);
  auto& link = ex.deadline_link_;
  link.queue = this;
  // Walk back from the tail past later deadlines (usually none).
  Exchange* after = tail_;
  while (after && after->deadline() > ex.deadline()) after = after->deadline_link_.prev;
  link.prev = after;
  link.next = after ? after->deadline_link_.next : head_;
  (link.prev ? link.prev->deadline_link_.next : head_) = &ex;
  (link.next ? link.next->deadline_link_.prev : tail_) = &ex;
  if (head_ == &ex) arm();
}

void DeadlineQueue::remove(Exchange& ex) noexcept {
  auto& link = ex.deadline_link_;
  if (link.queue != this) return;
  (link.prev ? link.prev->deadline_link_.next : head_) = link.next;
  (link.next ? link.next->deadline_link_.prev : tail_) = link.prev;
  link = {};
  // The timer is left as it is: when it fires early it re-arms for the head.
}

void DeadlineQueue::stop() {
  stopped_ = true;
  timer_.cancel();
}

void DeadlineQueue::arm() {
  if (stopped_ || !head_) return;
  if (waiting_ && armed_for_ <= head_->deadline()) return;  // fires in time already
  armed_for_ = head_->deadline();
  timer_.expires_at(armed_for_);  // cancels a later wait (its handler sees operation_aborted)
  waiting_ = true;
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // replaced by an earlier deadline, or stopped
    waiting_ = false;
    on_timer();
  });
}

void DeadlineQueue::on_timer() {
  if (stopped_) return;
  const auto now = Clock::now();
  while (head_ && head_->deadline() <= now) {
    auto keep = head_->shared_from_this();
    remove(*keep);
    on_expired_(*keep);
  }
  arm();
}

}  // namespace rebound::inflight
