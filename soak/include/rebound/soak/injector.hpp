// Runs a Schedule against the Rig in real time on its own thread, and
// keeps the journal of what was injected when (for the counts and for a
// violation's context). Actions run in schedule order; one that runs late
// (a graceful stop's grace, a slow restart) delays those after it, which
// shifts timing but never the order. Thread-safe.
#pragma once

#include <rebound/soak/rig.hpp>
#include <rebound/soak/schedule.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rebound::soak {

class Injector {
 public:
  Injector(Rig& rig, const Schedule& schedule, std::chrono::steady_clock::time_point t0);
  ~Injector();  ///< stop()

  void start();
  /// Skips what is left of the schedule, except repairs of faults still in
  /// effect (so the rig ends up whole), and joins the thread.
  void stop();
  /// Blocks until every action has run or stop() was called.
  void wait();

  /// Faults injected so far, by kind.
  std::map<std::string, std::uint64_t> injected() const;
  std::uint64_t injected_total() const;
  /// Journal lines ("12.345s (planned 12.300s) goaway inproc_tls") for
  /// actions run between `from` and `to`.
  std::vector<std::string> between(std::chrono::steady_clock::time_point from,
                                   std::chrono::steady_clock::time_point to) const;
  /// Set when the rig could not carry out an action (the soak is void).
  std::optional<std::string> harness_error() const;

 private:
  void run();
  Rig& rig_;
  std::vector<Action> actions_;
  std::chrono::steady_clock::time_point t0_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool done_ = false;
  struct Entry {
    std::chrono::steady_clock::time_point at;
    std::string line;
  };
  std::vector<Entry> journal_;
  std::map<std::string, std::uint64_t> injected_;
  std::optional<std::string> harness_error_;
  std::thread thread_;
};

}  // namespace rebound::soak
