// Runs a program as a user's shell would, keeping what a test must judge
// apart: its exit code, its stdout and its stderr, and how long it took by
// the wall clock. A hang cannot hang the test: past `limit` it is killed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace rebound::testing {

struct Finished {
  /// The exit status; -1 when a signal ended it.
  int exit_code = -1;
  /// It ran past the limit and was killed.
  bool killed = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds took{0};
};

/// Runs `program args...` (stdin from /dev/null) to its end, or for at most
/// `limit` before a SIGKILL.
Finished run_command(const std::string& program, const std::vector<std::string>& args,
                     std::chrono::milliseconds limit);

}  // namespace rebound::testing
