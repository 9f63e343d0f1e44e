// AppendLog: see append_log.hpp.
#include <rebound/server/append_log.hpp>

#include <cerrno>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace rebound::server {

AppendLog::AppendLog(const std::string& path) {
  if (path.empty()) return;
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open log " + path);
}

AppendLog::~AppendLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendLog::line(std::string_view text) const {
  if (fd_ < 0) return;
  std::string buffer;
  buffer.reserve(text.size() + 1);
  buffer.append(text);
  buffer.push_back('\n');
  // One write: O_APPEND places it whole at the end (a short write to a local
  // file only happens when the disk is full; the log is for tests).
  ssize_t ignored = ::write(fd_, buffer.data(), buffer.size());
  (void)ignored;
}

}  // namespace rebound::server
