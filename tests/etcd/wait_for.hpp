// Polls a condition until it holds or a timeout passes: how the fault
// tests wait for what a real cluster and real processes do in their time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace rebound::testing {

/// True as soon as `condition()` is; false when it still is not after `timeout`.
inline bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace rebound::testing
