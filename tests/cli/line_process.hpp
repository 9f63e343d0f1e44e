// A program running beside a test whose stdout lines are collected as they
// come, each with the steady time it arrived: for long-running commands
// (`rebound elect`) that a test pauses, resumes and kills while it reads
// what they report.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace rebound::testing {

class LineProcess {
 public:
  struct Line {
    std::chrono::steady_clock::time_point at;
    std::string text;
  };

  struct Options {
    /// In a process group of its own (as a shell starts a job), so that a
    /// signal to the group (Ctrl-Z's SIGTSTP) reaches it and nothing else.
    bool own_group = false;
    /// Read its stdout. When false, stdout is a 4 KiB pipe nobody reads,
    /// kept open: its writes block once the pipe is full.
    bool read_stdout = true;
  };
  /// Starts `program args...` (stdin from /dev/null, stderr inherited).
  LineProcess(const std::string& program, const std::vector<std::string>& args) : LineProcess(program, args, Options{}) {}
  LineProcess(const std::string& program, const std::vector<std::string>& args, Options options);
  ~LineProcess();  ///< SIGKILLs it if it still runs
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  /// Waits for the exit; its status (128 + signal when killed), or -1 past `timeout`.
  int wait(std::chrono::milliseconds timeout);

  std::vector<Line> lines() const;
  /// Waits until a line satisfies `pred`; false past `timeout`.
  bool wait_for_line(const std::function<bool(const Line&)>& pred, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  int out_fd_ = -1;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Line> lines_;
  std::atomic<bool> stopping_{false};
  std::thread reader_;
};

}  // namespace rebound::testing
