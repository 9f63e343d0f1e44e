// The fixture every fault test derives from: the file descriptors the
// process holds when the test ends (its servers, proxies and clients gone)
// must return to the count before it started. A connection, timer pipe or
// child process leaked by a fault path shows up here.
#pragma once

#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace rebound::testing {

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fds(); }
  void TearDown() override {
    // Sockets of destroyed clients and servers close on their own threads.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (open_fds() > fds_before_ && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_LE(open_fds(), fds_before_) << "file descriptors leaked by the test";
  }

 private:
  std::size_t fds_before_ = 0;
};

}  // namespace rebound::testing
