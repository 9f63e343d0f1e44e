// elect's end of the watchdog (watchdog.hpp): forks it, sends it orders,
// and hands its reports to elect on a reader thread of its own.
//
// Thread safety: send() may be called from any thread (one write each);
// the handler runs on the reader thread.
#pragma once

#include "elect/fence_protocol.hpp"
#include "elect/watchdog.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>

namespace rebound::cli::elect {

class WatchdogLink {
 public:
  /// Forks the watchdog and waits for its ready report. Call while the
  /// process has one thread (a fork of a threaded process may not
  /// allocate). Throws std::runtime_error when it cannot start, or when
  /// cgroup containment was asked for and is not usable (the message says
  /// why).
  explicit WatchdogLink(const WatchdogConfig& config);
  /// close(), waiting at most 10 s.
  ~WatchdogLink();
  WatchdogLink(const WatchdogLink&) = delete;
  WatchdogLink& operator=(const WatchdogLink&) = delete;

  ContainmentMode mode() const noexcept { return mode_; }
  /// The group's directory, or why there is none.
  const std::string& detail() const noexcept { return detail_; }
  pid_t pid() const noexcept { return pid_; }

  /// False when the watchdog is gone (or stopped reading).
  bool send(const Order& order);
  /// Reads reports on a thread until the watchdog is gone: each goes to
  /// `handler`, then a final nullopt. Call once.
  void start_reading(std::function<void(const std::optional<Report>&)> handler);
  /// Closes the order pipe - the watchdog ends a running term as after
  /// elect's death, then exits - and waits up to `bound` for it. True when
  /// it exited.
  bool close(std::chrono::milliseconds bound);

 private:
  pid_t pid_ = -1;
  int orders_ = -1;   ///< write end
  int reports_ = -1;  ///< read end
  ContainmentMode mode_ = ContainmentMode::subreaper;
  std::string detail_;
  std::thread reader_;
};

}  // namespace rebound::cli::elect
