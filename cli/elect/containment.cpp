// Containment of the command's processes: see containment.hpp.
#include "elect/containment.hpp"

#include "elect/process_tree.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rebound::cli::elect {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// mountinfo escapes blanks in paths as octal (\040).
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const auto digits = s.substr(i + 1, 3);
      if (digits.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool write_text(const std::string& path, const char* text) noexcept {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto n = ::write(fd, text, std::strlen(text));
  ::close(fd);
  return n == static_cast<ssize_t>(std::strlen(text));
}

}  // namespace

const char* to_string(ContainmentMode m) noexcept { return m == ContainmentMode::cgroup ? "cgroup" : "subreaper"; }

std::optional<Cgroup2Mount> find_cgroup2_mount(std::string_view mountinfo) {
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  while (std::getline(lines, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, devices, root, mount_point;
    if (!(head >> id >> parent >> devices >> root >> mount_point)) continue;
    return Cgroup2Mount{unescape(mount_point), unescape(root)};
  }
  return std::nullopt;
}

std::optional<std::string> unified_cgroup_path(std::string_view proc_cgroup) {
  std::istringstream lines{std::string(proc_cgroup)};
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return std::nullopt;
}

Containment::Containment(ContainmentChoice choice, const std::string& name) {
  // Orphaned descendants come to us in both modes: we reap them, and the
  // subreaper mode finds them below us.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (choice == ContainmentChoice::subreaper) {
    detail_ = "cgroup containment turned off (--containment subreaper)";
    return;
  }
  try_cgroup(name);
  if (mode_ != ContainmentMode::cgroup && choice == ContainmentChoice::cgroup)
    throw std::runtime_error("--containment cgroup: " + detail_);
}

std::optional<std::string> own_cgroup_directory(std::string& why) {
  const auto mount = find_cgroup2_mount(read_file("/proc/self/mountinfo"));
  if (!mount) {
    why = "no cgroup2 file system in /proc/self/mountinfo";
    return std::nullopt;
  }
  auto ours = unified_cgroup_path(read_file("/proc/self/cgroup"));
  if (!ours) {
    why = "no 0:: line in /proc/self/cgroup (not in the unified hierarchy)";
    return std::nullopt;
  }
  if (mount->root != "/") {
    if (ours->rfind(mount->root, 0) != 0) {
      why = "our cgroup " + *ours + " is outside the mounted part " + mount->root;
      return std::nullopt;
    }
    ours = ours->substr(mount->root.size());
  }
  std::string directory = mount->mount_point + *ours;
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  return directory;
}

void Containment::try_cgroup(const std::string& name) {
  const auto parent = own_cgroup_directory(detail_);
  if (!parent) return;
  const std::string group = *parent + "/" + name;
  if (::mkdir(group.c_str(), 0755) != 0 && !(errno == EEXIST && ::rmdir(group.c_str()) == 0 &&
                                            ::mkdir(group.c_str(), 0755) == 0)) {
    detail_ = "cannot create " + group + ": " + std::strerror(errno);
    return;
  }
  if (::access((group + "/cgroup.kill").c_str(), W_OK) != 0) {
    detail_ = "no writable cgroup.kill in " + group + " (needs Linux 5.14)";
    ::rmdir(group.c_str());
    return;
  }
  group_ = group;
  procs_ = group + "/cgroup.procs";
  // Joining takes write access to our own group's cgroup.procs too: try it
  // once with a throwaway child rather than fail the command's start.
  const pid_t probe = ::fork();
  if (probe == 0) ::_exit(enter());
  int status = 0;
  if (probe < 0 || ::waitpid(probe, &status, 0) != probe || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    detail_ = "cannot move a process into " + group + ": " +
              std::strerror(probe < 0 ? errno : WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL);
    ::rmdir(group.c_str());
    group_.clear();
    procs_.clear();
    return;
  }
  mode_ = ContainmentMode::cgroup;
  detail_ = group;
}

Containment::~Containment() {
  if (!group_.empty()) ::rmdir(group_.c_str());
}

int Containment::enter() const noexcept {
  if (mode_ != ContainmentMode::cgroup && procs_.empty()) return 0;
  const int fd = ::open(procs_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int ok = ::write(fd, "0", 1) == 1 ? 0 : errno;
  ::close(fd);
  return ok;
}

void Containment::signal_all(int sig) const {
  if (mode_ == ContainmentMode::cgroup) {
    if (sig == SIGKILL) {
      write_text(group_ + "/cgroup.kill", "1");
    } else {
      std::istringstream pids(read_file(procs_));
      for (pid_t pid = 0; pids >> pid;) ::kill(pid, sig);
    }
  }
  for (const pid_t pid : descendants_of(::getpid())) ::kill(pid, sig);
}

bool Containment::populated() const {
  if (mode_ != ContainmentMode::cgroup) return false;
  return read_file(group_ + "/cgroup.events").find("populated 1") != std::string::npos;
}

}  // namespace rebound::cli::elect
