// The elect <-> watchdog messages: see fence_protocol.hpp.
#include "elect/fence_protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace rebound::cli::elect {

std::int64_t boot_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t boot_deadline_ns(std::chrono::steady_clock::time_point t) noexcept {
  const auto boot = boot_now_ns();
  const auto steady = std::chrono::steady_clock::now();
  return boot + std::chrono::duration_cast<std::chrono::nanoseconds>(t - steady).count();
}

const char* to_string(EndReason r) noexcept {
  switch (r) {
    case EndReason::asked: return "leadership ended";
    case EndReason::bound_passed: return "leadership bound passed";
    case EndReason::exited_by_itself: return "exited by itself";
    case EndReason::elect_gone: return "rebound elect gone";
  }
  return "?";
}

void Report::set_detail(const std::string& s) noexcept {
  const auto n = std::min(s.size(), sizeof detail - 1);
  std::memcpy(detail, s.data(), n);
  detail[n] = '\0';
}

bool send_message(int fd, const void* message, std::size_t size) noexcept {
  const auto* p = static_cast<const char*>(message);
  while (size > 0) {
    const auto n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool receive_message(int fd, void* message, std::size_t size) noexcept {
  auto* p = static_cast<char*>(message);
  while (size > 0) {
    const auto n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace rebound::cli::elect
