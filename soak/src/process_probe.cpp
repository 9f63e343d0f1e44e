// Reading /proc and the allocator.
#include <rebound/soak/process_probe.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <sstream>
#include <unistd.h>

namespace rebound::soak {

namespace {

// utime + stime (fields 14 and 15) of a /proc/.../stat line; the command
// name (field 2) may hold spaces, so count fields after its closing ')'.
std::chrono::microseconds stat_cpu(const std::string& path, std::string* name = nullptr) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return std::chrono::microseconds(0);
  const auto open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return std::chrono::microseconds(0);
  if (name) *name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return std::chrono::microseconds(static_cast<long long>((utime + stime) * 1'000'000ull / static_cast<unsigned long long>(ticks)));
}

}  // namespace

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::uint64_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t rss_anon_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("RssAnon:", 0) != 0) continue;
    std::istringstream fields(line.substr(8));
    std::uint64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

std::uint64_t heap_in_use() {
  if (under_asan()) return 0;
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

void trim_heap() { ::malloc_trim(0); }

void pin_allocator_thresholds() {
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}

std::chrono::microseconds process_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::microseconds(ts.tv_sec * 1'000'000LL + ts.tv_nsec / 1000);
}

std::chrono::microseconds cpu_of(pid_t pid) {
  if (pid <= 0) return std::chrono::microseconds(0);
  return stat_cpu("/proc/" + std::to_string(pid) + "/stat");
}

std::vector<ThreadCpu> thread_cpu() {
  std::vector<ThreadCpu> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    ThreadCpu t;
    t.tid = static_cast<pid_t>(std::stol(e.path().filename().string()));
    t.cpu = stat_cpu(e.path().string() + "/stat", &t.name);
    out.push_back(std::move(t));
  }
  return out;
}

bool under_asan() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace rebound::soak
