// The soak's continuous checks, on their own thread every 250 ms while the
// soak runs: requests past their deadline + grace (hangs, with the client's
// pools), Counters::completions_dropped of every client, and the servers'
// request logs as they grow (a non-idempotent request run twice, more runs
// than attempts), and each client's failed dials per second (a redial
// storm). Also samples RSS and open fds for their peaks.
#pragma once

#include <rebound/soak/injector.hpp>
#include <rebound/soak/ledger.hpp>
#include <rebound/soak/log_tail.hpp>
#include <rebound/soak/monitor.hpp>
#include <rebound/soak/worker.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace rebound::soak {

class Watchdog {
 public:
  Watchdog(Shared shared, std::vector<Worker*> workers, std::vector<std::string> logs);
  ~Watchdog();  ///< stop()

  void start();
  void stop();
  /// One pass of every check (the thread runs this; call it once more at the end).
  void sweep();
  /// Reads the logs to their end and checks runs; `final` once every server stopped.
  void read_logs(bool final);
  /// The final pass over every request's runs (after read_logs(true)).
  void check_all_runs();

  std::uint64_t peak_rss() const { return peak_rss_; }
  std::size_t peak_fds() const { return peak_fds_; }
  std::uint64_t log_lines() const { return log_lines_; }
  std::uint64_t unknown_log_lines() const { return unknown_log_lines_; }

 private:
  void report_runs(std::uint64_t id, const Entry& e, bool final);

  Shared shared_;
  std::vector<Worker*> workers_;
  std::vector<LogTail> logs_;
  std::mutex sweep_mutex_;                 // the thread and the final calls take turns
  std::set<std::uint64_t> reported_;       // a hang is reported once, not at every sweep
  std::set<std::uint64_t> runs_reported_;
  std::set<int> dropped_reported_;
  std::set<int> storm_reported_;
  // Per client, over the last second or so: failed dials and requests started so far.
  struct DialSample {
    Clock::time_point at;
    std::uint64_t failures = 0, started = 0;
  };
  std::vector<std::deque<DialSample>> dial_samples_;
  std::atomic<std::uint64_t> peak_rss_{0};
  std::atomic<std::size_t> peak_fds_{0};
  std::atomic<std::uint64_t> log_lines_{0}, unknown_log_lines_{0};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rebound::soak
