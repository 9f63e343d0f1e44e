// libFuzzer harness for Retry-After (RFC 9110 10.2.3), a value a server
// controls: any input is either refused (nullopt) or a delay between 0 and
// the one-day cap; delay-seconds of up to six digits are exactly that many
// seconds (up to the cap); the answer does not depend on anything but the value and the
// clock; bytes after a NUL never make a date acceptable.
#include "retry/retry.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const auto delay = rebound::retry::parse_retry_after(value, now);
  if (delay != rebound::retry::parse_retry_after(value, now)) std::abort();
  if (!delay) return 0;
  if (*delay < std::chrono::milliseconds(0) || *delay > std::chrono::hours(24)) std::abort();
  if (value.find('\0') != std::string_view::npos) std::abort();  // a date cut short at a NUL was read as whole
  auto trimmed = value;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  const bool digits = !trimmed.empty() && std::all_of(trimmed.begin(), trimmed.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && trimmed.size() <= 5) {
    long long seconds = 0;
    for (char c : trimmed) seconds = seconds * 10 + (c - '0');
    if (*delay != std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), std::chrono::hours(24)))
      std::abort();
  }
  return 0;
}
