// Time as the pool sees it: "now" and "call me after a delay". Production
// uses the steady clock and Asio timers; the pool's unit tests use a manual
// clock they advance by hand, so backoff and idle reaping are tested
// without sleeping.
#pragma once

#include "inflight/exchange.hpp"

#include <functional>
#include <memory>

namespace rebound::pool {

namespace asio = boost::asio;

using inflight::Clock;

/// A pending call_after: dropping the handle cancels the call.
using ScheduledCall = std::shared_ptr<void>;

class PoolClock {
 public:
  virtual ~PoolClock() = default;
  virtual Clock::time_point now() const = 0;
  /// Calls `f` once after `delay` on the pool's thread, unless the returned
  /// handle was dropped first.
  [[nodiscard]] virtual ScheduledCall call_after(Clock::duration delay, std::function<void()> f) = 0;
};

/// std::chrono::steady_clock and a steady_timer per call on `executor`.
std::unique_ptr<PoolClock> make_steady_clock(asio::any_io_executor executor);

}  // namespace rebound::pool
