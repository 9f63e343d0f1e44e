// Server-managed metadata helpers: see lease_state.hpp.
#include "lease_state.hpp"

#include <cstdio>
#include <random>

namespace rebound::lease::detail {

std::string make_uid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = (rng() & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  const std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
                (unsigned long long)((hi >> 16) & 0xFFFF), (unsigned long long)(hi & 0xFFFF),
                (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

boost::json::object& metadata_of(boost::json::object& lease) {
  auto& m = lease["metadata"];
  if (!m.is_object()) m = boost::json::object{};
  return m.get_object();
}

}  // namespace rebound::lease::detail
