// Follows one server's request log (ServerOptions::request_log, `rebound
// serve --request-log`) as it grows: each call returns the whole lines
// appended since the last, so the soak counts runs per request id while the
// servers still write. A line being written is left for the next call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rebound::soak {

struct LogLine {
  std::string method;
  std::string target;
  std::optional<std::uint64_t> id;  ///< x-request-id; nullopt for "-" or not a number
};

class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  /// New complete lines (none when the file does not exist yet).
  std::vector<LogLine> read_new();
  /// Bytes of an unfinished last line, left unread.
  std::size_t pending() const { return partial_.size(); }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string partial_;
};

}  // namespace rebound::soak
