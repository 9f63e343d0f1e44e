// The command `rebound elect` runs while it leads: started in a process
// group of its own, killed with it when `rebound elect` dies (even by
// SIGKILL: the parent-death signal), and stopped with SIGTERM to the whole
// group, then SIGKILL after a grace period - so two commands never run at
// once after a takeover.
//
// Thread safety: every member may be called from any thread (the
// elector's callback thread starts and stops it, the main thread watches
// it); one mutex serialises them, and stop() holds it for at most `grace`.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::cli::elect {

class SupervisedCommand {
 public:
  /// `stdout_to_stderr`: the command writes its standard output to our
  /// standard error (which keeps ours machine-readable with --json).
  SupervisedCommand(std::vector<std::string> argv, bool stdout_to_stderr)
      : argv_(std::move(argv)), stdout_to_stderr_(stdout_to_stderr) {}
  ~SupervisedCommand();  ///< SIGKILLs the group if it still runs
  SupervisedCommand(const SupervisedCommand&) = delete;
  SupervisedCommand& operator=(const SupervisedCommand&) = delete;

  /// Starts the command unless it runs; its pid, or -1 when it could not be
  /// started (`error()` says why).
  pid_t start();
  /// SIGTERM to the group, SIGKILL after `grace`; returns once it was
  /// reaped. The exit status, or nullopt when it was not running.
  std::optional<int> stop(std::chrono::milliseconds grace);
  /// Reaps the command if it exited by itself: its exit status then (128 +
  /// signal when killed), once; nullopt while it runs or when not started.
  std::optional<int> poll_exit();
  bool running() const;
  std::string error() const;

 private:
  static int exit_code(int wait_status);

  const std::vector<std::string> argv_;
  const bool stdout_to_stderr_;
  mutable std::mutex mutex_;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace rebound::cli::elect
