// Atomic file replacement: see atomic_file.hpp.
#include "atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace rebound::lease::detail {

std::optional<std::string> read_whole_file(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

std::mutex sync_mutex;
SyncFunction sync_function;  // guarded by sync_mutex; empty: ::fsync

int sync(int fd, SyncTarget target) {
  SyncFunction f;
  {
    std::lock_guard lock(sync_mutex);
    f = sync_function;
  }
  return f ? f(fd, target) : ::fsync(fd);
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// write(2) until done: a short write is not an error.
bool write_all(int fd, const std::string& content) {
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void set_sync_function_for_tests(SyncFunction f) {
  std::lock_guard lock(sync_mutex);
  sync_function = std::move(f);
}

std::string replace_file_atomically(const std::string& path, const std::string& content) {
  // The pid keeps two processes that share a path (a restarted server while
  // the old one dies) from writing the same temp file.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("open " + tmp);
  std::string error;
  if (!write_all(fd, content))
    error = errno_text("write " + tmp);
  else if (sync(fd, SyncTarget::file) != 0)  // the data must be on disk before the rename makes it visible
    error = errno_text("fsync " + tmp);
  if (::close(fd) != 0 && error.empty()) error = errno_text("close " + tmp);
  if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) error = errno_text("rename to " + path);
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return error;
  }
  // Make the rename itself durable: until the directory is fsynced a crash
  // can bring the old file back, so a write is not acknowledged without it.
  // The new file is in place by now and stays (the caller answers 500: a
  // write whose outcome a client cannot know, as after a lost answer); the
  // next successful write replaces it with what the store holds.
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return errno_text("open directory " + dir + " to fsync it");
  if (sync(dfd, SyncTarget::directory) != 0) error = errno_text("fsync directory " + dir);
  ::close(dfd);
  return error;
}

}  // namespace rebound::lease::detail
