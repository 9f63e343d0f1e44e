// Descendants from /proc: see process_tree.hpp.
#include "elect/process_tree.hpp"

#include <charconv>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace rebound::cli::elect {

pid_t parent_from_stat(std::string_view stat) noexcept {
  // "PID (COMM) STATE PPID ...": COMM ends at the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || close + 4 > stat.size()) return -1;
  auto rest = stat.substr(close + 2);  // "STATE PPID ..."
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return -1;
  rest = rest.substr(space + 1);
  pid_t parent = -1;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), parent);
  if (ec != std::errc{}) return -1;
  return parent;
}

std::vector<pid_t> descendants_in(pid_t root, const std::vector<std::pair<pid_t, pid_t>>& pairs) {
  std::vector<pid_t> found{root};
  for (std::size_t i = 0; i < found.size(); ++i)
    for (const auto& [pid, parent] : pairs)
      if (parent == found[i] && pid != root) found.push_back(pid);
  found.erase(found.begin());
  return found;
}

std::vector<pid_t> descendants_of(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> pairs;
  DIR* proc = ::opendir("/proc");
  if (!proc) return {};
  while (const dirent* entry = ::readdir(proc)) {
    pid_t pid = 0;
    const std::string_view name(entry->d_name);
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc{} || pid <= 0) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // gone meanwhile
    char buf[512];
    const auto n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n <= 0) continue;
    pairs.emplace_back(pid, parent_from_stat(std::string_view(buf, static_cast<std::size_t>(n))));
  }
  ::closedir(proc);
  return descendants_in(root, pairs);
}

}  // namespace rebound::cli::elect
