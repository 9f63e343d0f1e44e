// Every request deadline of a shard on one timer. Requests are linked into a
// list ordered by deadline through hooks inside the Exchange, so adding and
// removing cost a few pointer writes: no allocation, no timer object and no
// timer-heap update per request (two Asio timers per request were ~10% of a
// small request's CPU). Nearly all requests share one timeout, so a new
// deadline is almost always the latest and goes to the tail.
// Single-threaded: used on its shard's I/O thread only.
#pragma once

#include "inflight/exchange.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>

namespace rebound::inflight {

class DeadlineQueue {
 public:
  /// `on_expired` runs for each exchange whose deadline passed (it is
  /// unlinked first, and kept alive during the call).
  DeadlineQueue(asio::any_io_executor executor, std::function<void(Exchange&)> on_expired);
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;
  ~DeadlineQueue();

  /// Links `ex` by its deadline. `ex` unlinks itself when it completes or dies.
  void add(Exchange& ex);
  /// Unlinks `ex`; a no-op when it is not linked.
  void remove(Exchange& ex) noexcept;
  /// Stops the timer (shard shutdown); the linked exchanges stay linked.
  void stop();

 private:
  void arm();
  void on_timer();

  asio::steady_timer timer_;
  std::function<void(Exchange&)> on_expired_;
  Exchange* head_ = nullptr;  // earliest deadline
  Exchange* tail_ = nullptr;  // latest deadline
  bool waiting_ = false;
  bool stopped_ = false;
  Clock::time_point armed_for_{};
};

}  // namespace rebound::inflight
