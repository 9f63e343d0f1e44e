// Running an exec plugin as a child process: its own process group, stdin
// from /dev/null, stdout and stderr captured, killed at a deadline or when
// abandoned. Blocks the calling thread until the child is gone.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace rebound::kube::detail {

struct PluginRun {
  enum class Outcome {
    exited,        ///< `status` is its exit status
    signalled,     ///< `status` is the signal that ended it
    not_found,     ///< the command does not exist (ENOENT)
    spawn_failed,  ///< could not start it: `error` says why
    timed_out,     ///< killed at the deadline
    abandoned,     ///< killed because `abandon` became true
  };
  Outcome outcome = Outcome::spawn_failed;
  int status = 0;
  std::string out;   ///< stdout (at most 1 MiB)
  std::string err;   ///< the end of stderr (at most 8 KiB)
  std::string error; ///< spawn_failed: strerror
};

/// `env` is the complete environment ("NAME=value"). `command` without a
/// '/' is looked up in this process's PATH.
PluginRun run_plugin(const std::string& command, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, std::chrono::milliseconds timeout,
                     const std::atomic<bool>& abandon);

/// The last non-blank line of `text`, trimmed ("" when none).
std::string last_line(const std::string& text);

}  // namespace rebound::kube::detail
