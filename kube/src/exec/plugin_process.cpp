// The child process of one plugin run (posix_spawnp, pipes, poll, kill).
#include "exec/plugin_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rebound::kube::detail {
namespace {

constexpr std::size_t max_out = 1u << 20;
constexpr std::size_t max_err = 8u << 10;

struct Fd {
  int fd = -1;
  ~Fd() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Reads what is there; false at EOF (or error).
bool drain(int fd, std::string& into, std::size_t cap, bool keep_tail) {
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  if (into.size() > cap) {
    if (keep_tail)
      into.erase(0, into.size() - cap);
    else
      into.resize(cap);  // the rest is read and dropped; a token is never that long
  }
  return true;
}

}  // namespace

std::string last_line(const std::string& text) {
  std::size_t end = text.size();
  while (end > 0) {
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ' || text[end - 1] == '\t'))
      --end;
    if (end == 0) break;
    std::size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = text.substr(start, end - start);
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos) return line.substr(first);
    end = start;
  }
  return {};
}

PluginRun run_plugin(const std::string& command, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, std::chrono::milliseconds timeout,
                     const std::atomic<bool>& abandon) {
  PluginRun run;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    run.error = std::strerror(errno);
    return run;
  }
  Fd out_r{out_pipe[0]}, out_w{out_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    run.error = std::strerror(errno);
    return run;
  }
  Fd err_r{err_pipe[0]}, err_w{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
  // Nothing else of ours: the client's sockets (Asio opens them without
  // close-on-exec) would outlive their connections in the plugin.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills what it started too; default
  // signal handling and an empty mask whatever this process set up.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP}) sigaddset(&defaults, s);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv{const_cast<char*>(command.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, command.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out_w.close();
  err_w.close();
  if (rc != 0) {
    run.outcome = rc == ENOENT ? PluginRun::Outcome::not_found : PluginRun::Outcome::spawn_failed;
    run.error = std::strerror(rc);
    return run;
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  int status = 0;
  bool reaped = false;
  while (true) {
    if (abandon.load()) {
      run.outcome = PluginRun::Outcome::abandoned;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      run.outcome = PluginRun::Outcome::timed_out;
      break;
    }
    const int slice = static_cast<int>(
        std::min<std::int64_t>(50, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    if (out_open || err_open) {
      pollfd fds[2] = {{out_open ? out_r.fd : -1, POLLIN, 0}, {err_open ? err_r.fd : -1, POLLIN, 0}};
      if (::poll(fds, 2, slice) < 0 && errno != EINTR) break;
      if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) out_open = drain(out_r.fd, run.out, max_out, false);
      if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) err_open = drain(err_r.fd, run.err, max_err, true);
      continue;
    }
    // Both pipes closed: the child is exiting (or closed them and lingers).
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      reaped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!reaped) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (run.outcome != PluginRun::Outcome::timed_out && run.outcome != PluginRun::Outcome::abandoned) {
      run.outcome = PluginRun::Outcome::spawn_failed;
      run.error = "lost track of the process";
    }
    return run;
  }
  if (WIFEXITED(status)) {
    run.outcome = PluginRun::Outcome::exited;
    run.status = WEXITSTATUS(status);
  } else {
    run.outcome = PluginRun::Outcome::signalled;
    run.status = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return run;
}

}  // namespace rebound::kube::detail
