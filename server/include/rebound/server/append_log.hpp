// A line log that survives a SIGKILL of the server: each line is one
// write(2) on an O_APPEND descriptor, so lines from several threads never
// interleave and a line the server wrote is in the file whatever happens to
// the process next. The server's request log (ServerOptions::request_log)
// and the Lease API's watch send log (`--watch-log`) are two.
#pragma once

#include <string>
#include <string_view>

namespace rebound::server {

class AppendLog {
 public:
  /// Opens (creates) `path` for appending; empty: a log that drops lines.
  /// Throws std::runtime_error when it cannot be opened.
  explicit AppendLog(const std::string& path);
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  bool is_open() const noexcept { return fd_ >= 0; }
  /// Appends `text` and a newline with one write(2). Thread-safe.
  void line(std::string_view text) const;

 private:
  int fd_ = -1;
};

}  // namespace rebound::server
