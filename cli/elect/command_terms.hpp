// What `rebound elect` does with its command across terms of leadership,
// as orders to the watchdog (watchdog.hpp), which alone runs and signals
// the command. Level-triggered: the main loop calls tick() with the
// elector's view every few milliseconds (and at once when a callback wakes
// it), and the terms follow:
//
//   none --(leading, valid for at least min_left, newer than the last
//           term's bound)--> starting --(started)--> running
//   starting/running --(not leading)--> stopping --(ended)--> none
//   running --(renewed)--> running, bound extended
//
// A term is numbered (epoch); the watchdog ignores orders for another
// epoch, so nothing stops a later term's command. A command that cannot
// start, or that exits by itself, ends the election: final_status() then
// says with what status elect exits (126/127 like a shell when it could
// not start; the command's own status when it exited).
//
// Thread safety: every member may be called from any thread.
#pragma once

#include "elect/watchdog_link.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace rebound::cli::elect {

class CommandTerms {
 public:
  using Clock = std::chrono::steady_clock;
  /// One line for the user: an event name, its JSON fields, its text.
  using Notify = std::function<void(const std::string& event, boost::json::object fields, const std::string& text)>;

  CommandTerms(WatchdogLink& link, std::chrono::milliseconds min_left, Notify notify);

  /// The elector's view now: whether it leads and until when.
  void tick(bool leading, Clock::time_point valid_until);
  /// A report from the watchdog (nullopt: it is gone). The reader thread.
  void on_report(const std::optional<Report>& report);
  /// Stops the running term's command (if any) and waits until every
  /// process of it is gone, up to `bound`, unless `leading()` says a new
  /// leadership covers it. True when no command runs.
  bool stop(std::chrono::milliseconds bound, const std::function<bool()>& leading = {});
  /// Waits up to `bound` for a report (or wake()).
  void wait(std::chrono::milliseconds bound);
  /// Wakes wait().
  void wake();
  /// Set once elect must end because of its command (see above).
  std::optional<int> final_status() const;
  /// elect is closing the watchdog: its end is expected from now on.
  void closing();

 private:
  enum class Phase { none, starting, running, stopping };
  bool order(OrderKind kind, Clock::time_point valid_until);  // mutex_ held
  void lose_watchdog();                                       // mutex_ held

  WatchdogLink& link_;
  const std::chrono::milliseconds min_left_;
  const Notify notify_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Phase phase_ = Phase::none;
  std::uint64_t epoch_ = 0;
  Clock::time_point sent_until_{};   ///< the bound last sent for this term
  Clock::time_point ended_under_{};  ///< the bound the last term ended under
  std::optional<int> final_status_;
  bool woken_ = false;
  bool closing_ = false;
};

}  // namespace rebound::cli::elect
