// Whole-file reads and crash-safe whole-file replacement, for the Lease
// store's persistence: a reader sees the old file or the new one, never a
// torn mix, even if the process dies mid-write.
#pragma once

#include <optional>
#include <string>

namespace rebound::lease::detail {

/// The file's bytes; nullopt when it does not exist. Throws
/// std::runtime_error when it exists but cannot be read.
std::optional<std::string> read_whole_file(const std::string& path);

/// Writes `content` to a temp file beside `path`, fsyncs it, renames it over
/// `path` and fsyncs the directory. Returns "" on success, else why not (the
/// temp file is removed and `path` is untouched).
std::string replace_file_atomically(const std::string& path, const std::string& content);

}  // namespace rebound::lease::detail
