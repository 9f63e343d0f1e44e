// A child process (e.g. `rebound serve`) whose first stdout line is read
// back (the URL it serves), so it can be killed for real. Used by
// `rebound demo`, the soak and the recovery tests.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::process {

class ChildProcess {
 public:
  /// Where the child's stdin comes from: /dev/null, or a pipe that
  /// send_line() writes to (`rebound serve`'s fault commands).
  enum class Stdin : bool { null, pipe };
  /// Starts `program` with `args` and returns once the child printed its
  /// first line. Throws std::runtime_error if it exits without one.
  /// "/proc/self/exe" runs this executable again.
  ChildProcess(std::string program, std::vector<std::string> args, Stdin in = Stdin::null);
  ~ChildProcess();  ///< SIGKILLs the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& first_line() const { return first_line_; }
  /// SIGKILL and reap: gone as abruptly as a crash.
  void kill();
  /// SIGTERM and wait for the exit (the server's graceful stop).
  void terminate();
  bool running() const { return pid_ > 0; }
  /// Writes `line` and a newline to the child's stdin (Stdin::pipe only)
  /// and returns the next line it prints ("ok goaway" from `rebound
  /// serve`); "" when there is no pipe, the child is gone or it answers
  /// nothing within `timeout`.
  std::string send_line(const std::string& line, int timeout_ms = 5000);
  /// The child's process id while it runs, else -1.
  pid_t pid() const { return pid_; }

 private:
  void signal_and_reap(int sig);
  pid_t pid_ = -1;
  int stdin_ = -1;   // our end of the stdin pipe
  int stdout_ = -1;  // kept open with a stdin pipe: the child's answers (else it gets SIGPIPE)
  std::string first_line_;
};

}  // namespace rebound::process
