// CommandTerms: see command_terms.hpp. Notices are printed under the
// mutex: the printer never blocks (line_printer.hpp), and their order is
// then the order of the transitions.
#include "elect/command_terms.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

namespace rebound::cli::elect {

CommandTerms::CommandTerms(WatchdogLink& link, std::chrono::milliseconds min_left, Notify notify)
    : link_(link), min_left_(min_left), notify_(std::move(notify)) {}

void CommandTerms::tick(bool leading, Clock::time_point valid_until) {
  std::lock_guard lock(mutex_);
  if (final_status_) return;
  switch (phase_) {
    case Phase::none:
      // A stale or nearly spent leadership starts nothing: the command
      // would be stopped before it did anything.
      if (leading && valid_until > ended_under_ && valid_until - Clock::now() >= min_left_) {
        ++epoch_;
        if (order(OrderKind::start, valid_until)) phase_ = Phase::starting;
      }
      return;
    case Phase::starting:
    case Phase::running:
      if (!leading) {
        if (order(OrderKind::stop, sent_until_)) phase_ = Phase::stopping;
      } else if (valid_until > sent_until_) {
        order(OrderKind::extend, valid_until);
      }
      return;
    case Phase::stopping: return;
  }
}

bool CommandTerms::order(OrderKind kind, Clock::time_point valid_until) {
  Order o;
  o.kind = kind;
  o.epoch = epoch_;
  o.deadline_ns = boot_deadline_ns(valid_until);
  if (!link_.send(o)) {
    lose_watchdog();
    return false;
  }
  sent_until_ = valid_until;
  return true;
}

void CommandTerms::on_report(const std::optional<Report>& r) {
  std::lock_guard lock(mutex_);
  changed_.notify_all();
  if (!r) return lose_watchdog();
  if (r->epoch != epoch_) return;
  switch (r->kind) {
    case ReportKind::ready: return;
    case ReportKind::started:
      if (phase_ == Phase::starting) phase_ = Phase::running;
      notify_("command_started", {{"pid", r->pid}, {"term", r->epoch}}, "pid " + std::to_string(r->pid));
      return;
    case ReportKind::start_failed:
      phase_ = Phase::none;
      ended_under_ = sent_until_;
      notify_("command_failed", {{"message", r->detail}, {"term", r->epoch}}, r->detail);
      // Not worth retrying: the command itself cannot run here. (A bound
      // that passed before the start is worth a new term.)
      if (r->value != ETIME && r->value != EBUSY) final_status_ = r->value == ENOENT ? 127 : 126;
      return;
    case ReportKind::exited:
      notify_("command_exited", {{"exit_status", r->value}, {"term", r->epoch}},
              "exit status " + std::to_string(r->value));
      return;
    case ReportKind::ended:
      phase_ = Phase::none;
      ended_under_ = sent_until_;
      if (r->why == EndReason::exited_by_itself) {
        final_status_ = r->value;
        return;
      }
      notify_("command_stopped", {{"why", to_string(r->why)}, {"exit_status", r->value}, {"term", r->epoch}},
              std::string("(") + to_string(r->why) + ", exit status " + std::to_string(r->value) + ")");
      return;
  }
}

void CommandTerms::closing() {
  std::lock_guard lock(mutex_);
  closing_ = true;
}

void CommandTerms::lose_watchdog() {
  if (closing_) return;
  // Whoever killed the watchdog left the command without its guard: kill
  // what can be reached from here, and end.
  if (link_.mode() == ContainmentMode::cgroup) {
    const int fd = ::open((link_.detail() + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      [[maybe_unused]] auto n = ::write(fd, "1", 1);
      ::close(fd);
    }
  }
  notify_("watchdog_lost", {{"term", epoch_}}, "the watchdog process is gone; the command was killed where reachable");
  phase_ = Phase::none;
  final_status_ = 70;  // EX_SOFTWARE
}

bool CommandTerms::stop(std::chrono::milliseconds bound, const std::function<bool()>& leading) {
  std::unique_lock lock(mutex_);
  if (phase_ == Phase::starting || phase_ == Phase::running) {
    if (!leading || !leading()) {
      if (order(OrderKind::stop, sent_until_)) phase_ = Phase::stopping;
    }
  }
  return changed_.wait_for(lock, bound, [&] { return phase_ == Phase::none || (phase_ != Phase::stopping && leading && leading()); });
}

void CommandTerms::wait(std::chrono::milliseconds bound) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, bound, [&] { return std::exchange(woken_, false); });
}

void CommandTerms::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  changed_.notify_all();
}

std::optional<int> CommandTerms::final_status() const {
  std::lock_guard lock(mutex_);
  return final_status_;
}

}  // namespace rebound::cli::elect
