// A line log that survives a SIGKILL of the server: each line is one
// write(2) on an O_APPEND descriptor, so lines from several threads never
// interleave and a line the server wrote is in the file whatever happens to
// the process next. The watch send log (`--watch-log`) is one.
#pragma once

#include <string>
#include <string_view>

namespace rebound::lease::detail {

class AppendLog {
 public:
  /// Opens (creates) `path` for appending; empty: a log that drops lines.
  /// Throws std::runtime_error when it cannot be opened.
  explicit AppendLog(const std::string& path);
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  /// Appends `text` and a newline with one write(2).
  void line(std::string_view text) const;

 private:
  int fd_ = -1;
};

}  // namespace rebound::lease::detail
