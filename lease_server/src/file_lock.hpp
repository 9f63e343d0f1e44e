// The persist file's lock: one store per file at a time, across threads and
// processes. Two stores on one file would hand out the same resourceVersions
// and overwrite each other's writes - two API servers on one etcd that do
// not know of each other.
//
// The lock is flock(2) on "<file>.lock", not on the file itself, which every
// write replaces by a rename. It is held for the store's life and dies with
// its process, however that ends; the lock file names the holder's pid.
#pragma once

#include <string>

namespace rebound::lease::detail {

class FileLock {
 public:
  /// Takes the lock of `path`. Throws LeaseFileInUse (naming the file and
  /// the holder's pid) when another store holds it, std::runtime_error when
  /// the lock file cannot be created (no such directory, say).
  explicit FileLock(const std::string& path);
  /// Removes the lock file, then lets the lock go.
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace rebound::lease::detail
