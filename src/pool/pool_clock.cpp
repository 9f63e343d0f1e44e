// The production PoolClock: steady_clock, and one steady_timer per pending
// call (rare: only redial backoff uses it), cancelled when its handle dies.
#include "pool/pool_clock.hpp"

#include <boost/asio/steady_timer.hpp>

namespace rebound::pool {
namespace {

struct PendingCall {
  explicit PendingCall(asio::any_io_executor ex) : timer(std::move(ex)) {}
  ~PendingCall() { timer.cancel(); }
  asio::steady_timer timer;
};

class SteadyPoolClock final : public PoolClock {
 public:
  explicit SteadyPoolClock(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  Clock::time_point now() const override { return Clock::now(); }
  ScheduledCall call_after(Clock::duration delay, std::function<void()> f) override {
    auto call = std::make_shared<PendingCall>(executor_);
    call->timer.expires_after(delay);
    call->timer.async_wait([weak = std::weak_ptr<PendingCall>(call), f = std::move(f)](boost::system::error_code ec) {
      if (!ec && weak.lock()) f();
    });
    return call;
  }

 private:
  asio::any_io_executor executor_;
};

}  // namespace

std::unique_ptr<PoolClock> make_steady_clock(asio::any_io_executor executor) {
  return std::make_unique<SteadyPoolClock>(std::move(executor));
}

}  // namespace rebound::pool
