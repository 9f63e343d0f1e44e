// Reads what a server really ran from its request log (ServerOptions::
// request_log, `rebound serve --request-log`): one line per request, written
// before its handler runs, kept across a SIGKILL. Tests count requests by
// their x-request-id to prove a non-idempotent request never ran twice.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

namespace rebound::testing {

/// A fresh path in the temp directory, removed when this goes away.
class TempLog {
 public:
  explicit TempLog(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + ".log"))
                  .string()) {
    std::filesystem::remove(path_);
  }
  ~TempLog() { std::filesystem::remove(path_); }
  TempLog(const TempLog&) = delete;
  TempLog& operator=(const TempLog&) = delete;
  const std::string& path() const { return path_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string path_;
};

/// How many times each x-request-id ran with `method` ("-": requests without one).
inline std::map<std::string, int> runs_by_request_id(const std::string& log, const std::string& method) {
  std::map<std::string, int> runs;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string m, target, id;
    if (fields >> m >> target >> id && m == method) ++runs[id];
  }
  return runs;
}

/// Lines whose target is `target`.
inline int runs_of_target(const std::string& log, const std::string& target) {
  std::ifstream in(log);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string m, t;
    if (fields >> m >> t && t == target) ++n;
  }
  return n;
}

}  // namespace rebound::testing
