// Watches the electors of `rebound demo --backend etcd` from outside: every
// 2 ms, how many of them say is_leader(). The demo's claim "exactly one
// leader at every moment" is checked here, not from their own events:
// never two at once, and, while the sampler is "holding", never none.
#pragma once

#include <rebound/election/leader_elector.hpp>

#include <atomic>
#include <thread>
#include <vector>

namespace rebound::cli::demo {

class LeadershipSampler {
 public:
  explicit LeadershipSampler(std::vector<const lease::LeaderElector*> electors)
      : electors_(std::move(electors)), thread_([this] { run(); }) {}
  ~LeadershipSampler() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// While true, a sample with no leader counts as a lapse (the member
  /// kills); off for the takeover, when a gap is expected.
  void expect_a_leader(bool on) { expect_leader_ = on; }
  int most_at_once() const { return most_; }
  int lapses() const { return lapses_; }
  long samples() const { return samples_; }

 private:
  void run() {
    while (!done_) {
      int n = 0;
      for (const auto* e : electors_) n += e->is_leader() ? 1 : 0;
      if (n > most_) most_ = n;
      if (n == 0 && expect_leader_) ++lapses_;
      ++samples_;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::vector<const lease::LeaderElector*> electors_;
  std::atomic<bool> done_{false}, expect_leader_{false};
  std::atomic<int> most_{0}, lapses_{0};
  std::atomic<long> samples_{0};
  std::thread thread_;
};

}  // namespace rebound::cli::demo
