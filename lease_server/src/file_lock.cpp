// The persist file's lock: see file_lock.hpp.
#include "file_lock.hpp"

#include "rebound/lease_server/lease_store.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rebound::lease::detail {

namespace {

// "pid N (NAME)" from what the holder wrote into the lock file, NAME from
// /proc while it runs; "" when the holder wrote nothing yet.
std::string describe_holder(const std::string& lock_path) {
  std::ifstream in(lock_path);
  std::string word;
  long pid = 0;
  if (!(in >> word >> pid) || word != "pid" || pid <= 0) return {};
  std::string out = "pid " + std::to_string(pid);
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  if (std::string name; std::getline(comm, name) && !name.empty()) out += " (" + name + ")";
  return out;
}

bool same_file(int fd, const std::string& path) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
         held.st_ino == named.st_ino;
}

}  // namespace

FileLock::FileLock(const std::string& path) : lock_path_(path + ".lock") {
  // A store that is letting go removes the lock file while it still holds
  // the lock; a lock taken on a file that was removed meanwhile guards
  // nothing, so take it again on the file the name now leads to.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error("lease store " + path + ": cannot create its lock file " + lock_path_ + ": " +
                               std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EINTR) continue;
      if (error != EWOULDBLOCK)
        throw std::runtime_error("lease store " + path + ": cannot lock " + lock_path_ + ": " + std::strerror(error));
      const auto holder = describe_holder(lock_path_);
      throw LeaseFileInUse("lease store " + path + " is in use by another store (" +
                           (holder.empty() ? std::string("holder unknown") : holder) + ", per " + lock_path_ +
                           "): stop it first, or use another file");
    }
    if (!same_file(fd, lock_path_)) {
      ::close(fd);
      continue;
    }
    // Who holds it only feeds a second store's error message; the lock
    // itself does not depend on it being written.
    const std::string text = "pid " + std::to_string(::getpid()) + "\n";
    [[maybe_unused]] const bool named =
        ::ftruncate(fd, 0) == 0 && ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
    fd_ = fd;
    return;
  }
  throw std::runtime_error("lease store " + path + ": its lock file " + lock_path_ + " keeps being replaced");
}

FileLock::~FileLock() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // still holding the lock: see the constructor
  ::close(fd_);
}

}  // namespace rebound::lease::detail
