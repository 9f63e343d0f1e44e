// A child process (e.g. `rebound serve`) whose first stdout line is read
// back (the URL it serves), so it can be killed for real. Used by
// `rebound demo` and by the recovery tests.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::cli {

class ChildProcess {
 public:
  /// Starts `program` with `args` (stdin from /dev/null) and returns once
  /// the child printed its first line. Throws std::runtime_error if it
  /// exits without one. "/proc/self/exe" runs this executable again.
  ChildProcess(std::string program, std::vector<std::string> args);
  ~ChildProcess();  ///< SIGKILLs the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& first_line() const { return first_line_; }
  /// SIGKILL and reap: gone as abruptly as a crash.
  void kill();
  /// SIGTERM and wait for the exit (the server's graceful stop).
  void terminate();
  bool running() const { return pid_ > 0; }
  /// The child's process id while it runs, else -1.
  pid_t pid() const { return pid_; }

 private:
  void signal_and_reap(int sig);
  pid_t pid_ = -1;
  std::string first_line_;
};

}  // namespace rebound::cli
