// A bound on the soak's wind-down (drain, probes, idle check, teardown):
// if a client's I/O thread is stuck, shutdown() would wait for it forever.
// Past the bound, print what the monitor knows and exit 1, so a hang shows
// as a report instead of a test runner's timeout.
#pragma once

#include <rebound/soak/monitor.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

namespace rebound::soak {

class Deadman {
 public:
  Deadman(std::chrono::seconds bound, const Monitor& monitor)
      : thread_([this, bound, &monitor] {
          std::unique_lock lock(mutex_);
          if (disarmed_.wait_for(lock, bound, [this] { return done_; })) return;
          std::cout << "\nrebound soak: still winding down after " << bound.count()
                    << " s (a client's I/O thread stuck?); violations so far: " << monitor.total() << "\n";
          for (const auto& v : monitor.firsts())
            std::cout << "first " << v.finding.invariant << ": " << v.subject << ": " << v.finding.detail << "\n"
                      << v.context;
          std::cout.flush();
          std::_Exit(1);
        }) {}
  ~Deadman() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    disarmed_.notify_all();
    thread_.join();
  }
  Deadman(const Deadman&) = delete;
  Deadman& operator=(const Deadman&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable disarmed_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace rebound::soak
