// The shared record of the commands' terms that `rebound elect` tests read:
// every command is tick_worker (tests/cli/tick_worker.cpp), which appends
// "tick ID NS PID" to one file every 100 ms (NS: CLOCK_MONOTONIC, the
// tests' steady clock). A run - one worker's ticks without a gap of more
// than 400 ms - is one term of that candidate's command as it really ran;
// two runs of different candidates that overlap are two leaders at work.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace rebound::testing {

class TickRecord {
 public:
  using Clock = std::chrono::steady_clock;

  struct Run {
    std::string id;
    Clock::time_point first, last;
    int ticks = 0;
  };

  explicit TickRecord(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  /// Every run in the file now, ordered by start.
  std::vector<Run> runs() const;
  std::vector<Run> runs_of(const std::string& id) const;
  int ticks_of(const std::string& id) const;
  /// Ticks of `id` after `t`.
  int ticks_since(const std::string& id, Clock::time_point t) const;
  /// "" when no two runs of different candidates overlap, else which.
  std::string overlaps() const;
  /// Every run, one per line, relative to `origin`, for messages.
  std::string describe(Clock::time_point origin) const;

 private:
  std::string path_;
};

}  // namespace rebound::testing
