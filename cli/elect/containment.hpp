// How the watchdog keeps every process of the command within reach, so
// that stopping the command stops all of it - a worker that called setsid
// and double-forked, or one that runs a setuid binary, included:
//
//  * cgroup: a cgroup v2 group of its own under ours, which the command
//    joins before exec; `cgroup.kill` kills all of it at once, whatever
//    user its processes run as, and `cgroup.events` says when it is empty.
//  * subreaper: the watchdog is a child subreaper, so orphans are
//    reparented to it, and a scan of /proc finds its descendants. It cannot
//    signal a descendant that changed to another user unless it runs as
//    root.
//
// cgroup v2 is found from /proc/self/mountinfo (the `cgroup2` mount, which
// hybrid layouts put at /sys/fs/cgroup/unified rather than /sys/fs/cgroup)
// and our own path from the `0::` line of /proc/self/cgroup. A group we
// cannot create (EACCES, EROFS, EPERM: not delegated to us), or one without
// `cgroup.kill` (Linux < 5.14), means the subreaper mode.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace rebound::cli::elect {

enum class ContainmentMode { cgroup, subreaper };
/// What the user asked for: `automatic` tries a cgroup and falls back.
enum class ContainmentChoice { automatic, cgroup, subreaper };
const char* to_string(ContainmentMode m) noexcept;

/// The mount point of the cgroup2 file system in a mountinfo text, and the
/// root of the hierarchy it shows ("/" unless mounted from inside).
struct Cgroup2Mount {
  std::string mount_point;
  std::string root;
};
std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo);
/// Our path in the unified hierarchy, from the "0::PATH" line of a
/// /proc/PID/cgroup text.
std::optional<std::string> unified_cgroup_path(std::string_view proc_cgroup);
/// The directory of this process's own cgroup v2 group, from the two files
/// above; nullopt when there is none, and `why` says why.
std::optional<std::string> own_cgroup_directory(std::string& why);

class Containment {
 public:
  /// Prepares the mode asked for (a new group named `name` under ours, in
  /// cgroup mode) and makes the calling process a child subreaper in both
  /// modes. With `cgroup` asked and no usable group, throws
  /// std::runtime_error saying why; with `automatic`, falls back to
  /// subreaper and describe() says why.
  Containment(ContainmentChoice choice, const std::string& name);
  ~Containment();  ///< removes the group (it must be empty by then)
  Containment(const Containment&) = delete;
  Containment& operator=(const Containment&) = delete;

  ContainmentMode mode() const noexcept { return mode_; }
  /// The group's directory (cgroup mode), or why there is none.
  const std::string& detail() const noexcept { return detail_; }

  /// Called in the command's process after fork, before exec: joins the
  /// group in cgroup mode. 0, or the errno of the failure. Async-signal-safe.
  int enter() const noexcept;
  /// Sends `sig` to every process of the command: the group's (SIGKILL by
  /// cgroup.kill) and every descendant of this process.
  void signal_all(int sig) const;
  /// cgroup mode: the group still holds a process. subreaper: false (the
  /// watchdog's children say it).
  bool populated() const;

 private:
  void try_cgroup(const std::string& name);

  ContainmentMode mode_ = ContainmentMode::subreaper;
  std::string detail_;
  std::string group_;  ///< the group's directory, cgroup mode
  std::string procs_;  ///< its cgroup.procs
};

}  // namespace rebound::cli::elect
