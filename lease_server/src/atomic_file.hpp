// Whole-file reads and crash-safe whole-file replacement, for the Lease
// store's persistence: a reader sees the old file or the new one, never a
// torn mix, even if the process dies mid-write.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace rebound::lease::detail {

/// What an fsync of replace_file_atomically is for.
enum class SyncTarget {
  file,       ///< the new file's data, before the rename
  directory,  ///< the directory entry the rename changed
};
/// Does one fsync: returns 0, or -1 with errno set (as ::fsync does).
using SyncFunction = std::function<int(int fd, SyncTarget target)>;
/// Test seam: every fsync replace_file_atomically makes goes through `f`
/// (empty: ::fsync again). A test machine's filesystem gives no honest way to
/// make fsync fail or take long; tests use this to do both. Process-wide;
/// safe to call while writes run.
void set_sync_function_for_tests(SyncFunction f);

/// The file's bytes; nullopt when it does not exist. Throws
/// std::runtime_error when it exists but cannot be read.
std::optional<std::string> read_whole_file(const std::string& path);

/// Writes `content` to a temp file beside `path`, fsyncs it, renames it over
/// `path` and fsyncs the directory. Returns "" once all of that succeeded,
/// else why not: before the rename the temp file is removed and `path` is
/// untouched; when only the directory's fsync failed, `path` already holds
/// `content` but may not after a crash.
std::string replace_file_atomically(const std::string& path, const std::string& content);

}  // namespace rebound::lease::detail
