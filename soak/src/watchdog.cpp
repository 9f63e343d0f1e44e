// Watchdog: the periodic checks.
#include <rebound/soak/watchdog.hpp>

#include <rebound/soak/process_probe.hpp>

namespace rebound::soak {

Watchdog::Watchdog(Shared shared, std::vector<Worker*> workers, std::vector<std::string> logs)
    : shared_(shared), workers_(std::move(workers)), dial_samples_(workers_.size()) {
  for (auto& path : logs) logs_.emplace_back(std::move(path));
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(wake_mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; })) {
      lock.unlock();
      sweep();
      lock.lock();
    }
  });
}

void Watchdog::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::sweep() {
  const auto now = Clock::now();
  {
    std::lock_guard lock(sweep_mutex_);
    for (const auto& flight : shared_.ledger.overdue(now, shared_.grace)) {
      if (!reported_.insert(flight->spec.id).second) continue;
      Worker* w = workers_.at(static_cast<std::size_t>(flight->client));
      const auto late = std::chrono::duration_cast<std::chrono::milliseconds>(now - flight->deadline);
      shared_.monitor.report(
          {"completed_before_deadline", "not completed " + std::to_string(late.count()) + " ms after its deadline"},
          flight->spec.describe(), [&] { return w->context(*flight, "still running", true); });
    }
    for (Worker* w : workers_) {
      const Counters c = w->client().counters();
      const std::string who = "client #" + std::to_string(w->index()) + " (" + to_string(w->mode()) + ")";
      if (c.completions_dropped > 0 && dropped_reported_.insert(w->index()).second)
        shared_.monitor.report({"completions_dropped_zero", std::to_string(c.completions_dropped) + " completions dropped"},
                               who);
      auto& samples = dial_samples_.at(static_cast<std::size_t>(w->index()));
      samples.push_back({now, c.dial_failures, c.requests_started});
      while (samples.size() > 2 && now - samples[1].at >= std::chrono::seconds(1)) samples.pop_front();
      const auto window = std::chrono::duration_cast<std::chrono::milliseconds>(now - samples.front().at);
      if (window < std::chrono::milliseconds(500)) continue;
      if (auto f = check_dial_rate(c.dial_failures - samples.front().failures, c.requests_started - samples.front().started,
                                   window))
        if (storm_reported_.insert(w->index()).second)
          shared_.monitor.report(*f, who, [&] { return w->recent_context(); });
    }
  }
  read_logs(false);
  peak_rss_ = std::max<std::uint64_t>(peak_rss_, rss_bytes());
  peak_fds_ = std::max(peak_fds_.load(), open_fds());
}

void Watchdog::read_logs(bool final) {
  std::lock_guard lock(sweep_mutex_);
  for (auto& log : logs_) {
    for (const auto& line : log.read_new()) {
      ++log_lines_;
      const auto e = line.id ? shared_.ledger.add_run(*line.id) : std::nullopt;
      if (!e) {
        ++unknown_log_lines_;
        continue;
      }
      report_runs(*line.id, *e, final);
    }
  }
}

void Watchdog::check_all_runs() {
  std::lock_guard lock(sweep_mutex_);
  const auto entries = shared_.ledger.entries();
  for (std::size_t i = 0; i < entries.size(); ++i) report_runs(i + 1, entries[i], true);
}

void Watchdog::report_runs(std::uint64_t id, const Entry& e, bool final) {
  auto f = check_runs(e, final);
  if (!f || !runs_reported_.insert(id).second) return;
  std::string subject = "request #" + std::to_string(id) + " (" + to_string(e.kind) + ", client #" +
                        std::to_string(e.client) + ")";
  shared_.monitor.report(*f, subject, [&] {
    std::string state = e.state == Entry::State::running     ? "still running"
                        : e.state == Entry::State::succeeded ? "succeeded"
                                                             : std::string("failed, \"") + to_string(e.reached) + "\"";
    std::string c = "client record: " + state + ", " + std::to_string(e.attempts) + " attempt(s)\n";
    Worker* w = workers_.at(e.client);
    if (auto flight = shared_.ledger.flight(id)) return c + w->context(*flight, "still running", false);
    c += "faults in the last 15 s:\n";
    const auto now = Clock::now();
    for (const auto& line : shared_.injector.between(now - std::chrono::seconds(15), now)) c += "  " + line + "\n";
    return c + w->events_about(id);
  });
}

}  // namespace rebound::soak
