// Counts of requests by kind and outcome ("ok" or the error's kind), for
// the report. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace rebound::soak {

class Tally {
 public:
  using Table = std::map<std::string, std::map<std::string, std::uint64_t>>;
  void add(const std::string& kind, const std::string& outcome) {
    std::lock_guard lock(mutex_);
    ++table_[kind][outcome];
    ++total_;
    if (outcome == "ok") ++ok_;
  }
  Table table() const {
    std::lock_guard lock(mutex_);
    return table_;
  }
  std::uint64_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  std::uint64_t ok() const {
    std::lock_guard lock(mutex_);
    return ok_;
  }

 private:
  mutable std::mutex mutex_;
  Table table_;
  std::uint64_t total_ = 0, ok_ = 0;
};

}  // namespace rebound::soak
