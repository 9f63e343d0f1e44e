// The processes below one process, read from /proc: how the watchdog finds
// every descendant of the command when no cgroup holds them. As a child
// subreaper it inherits the orphans (a worker that called setsid and
// double-forked), so each of them is still below it.
#pragma once

#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace rebound::cli::elect {

/// The parent of a process from its /proc/PID/stat text; -1 when it does
/// not parse. (The command name may hold spaces and parentheses.)
pid_t parent_from_stat(std::string_view stat) noexcept;

/// Every descendant of `root` in `pairs` (pid, parent), children first
/// found first.
std::vector<pid_t> descendants_in(pid_t root, const std::vector<std::pair<pid_t, pid_t>>& pairs);

/// Every live descendant of `root` now (one scan of /proc).
std::vector<pid_t> descendants_of(pid_t root);

}  // namespace rebound::cli::elect
