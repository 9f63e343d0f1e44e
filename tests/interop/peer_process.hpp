// Running a real server binary (nghttpd, h2o, nginx) as a child process for
// the interop tests: a scratch directory, a free loopback port, the child in
// its own process group with its output in a log file, readiness by
// connecting, and a bounded stop (SIGTERM, then SIGKILL to the group).
//
// Thread safety: none; each test owns its own objects.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::interop {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
/// destruction. Throws std::runtime_error when it cannot be created.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// path() / name, as a string (for config files and argv).
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// A loopback port nobody listened on a moment ago (bound to port 0, read
/// back, closed). Another process may take it meanwhile: callers retry.
std::uint16_t free_port();

/// The full path of an executable `name` found in $PATH or in the usual
/// sbin directories (nginx and nghttpd live in /usr/sbin); empty if absent.
std::string find_program(const std::string& name);

/// Writes `content` to `path` (truncating). Throws std::runtime_error on failure.
void write_file(const std::filesystem::path& path, const std::string& content);

/// The whole file, or "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// At most the last `max_bytes` of a file (for skip reasons and failure messages).
std::string file_tail(const std::filesystem::path& path, std::size_t max_bytes = 1500);

/// A server in a child process. The child gets its own process group,
/// /dev/null as stdin, `log` as stdout and stderr, and SIGKILL if the test
/// process dies (PR_SET_PDEATHSIG), so no server outlives a crashed test.
class PeerProcess {
 public:
  /// Forks and execs argv[0] (a full path). Throws std::runtime_error when
  /// the log cannot be opened or fork fails; an exec failure shows up as an
  /// early exit with status 127 and a note in the log.
  PeerProcess(std::vector<std::string> argv, std::filesystem::path log);
  ~PeerProcess();  ///< stop()
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  /// Connects to 127.0.0.1:port in a loop until it is accepted (true), the
  /// child exits, or `deadline` passes (false).
  bool wait_until_listening(std::uint16_t port, std::chrono::milliseconds deadline);

  /// False once the child has exited (reaps it).
  bool running();

  /// SIGTERM to the child, up to `grace` for it to exit, then SIGKILL to
  /// its process group; reaps it. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

  pid_t pid() const noexcept { return pid_; }
  /// "running", "exited with status N" or "killed by signal N".
  std::string state() const;

 private:
  void reap_status(int status);

  pid_t pid_ = -1;
  bool exited_ = false;
  bool stopped_ = false;
  int exit_status_ = 0;
  int exit_signal_ = 0;
};

}  // namespace rebound::interop
