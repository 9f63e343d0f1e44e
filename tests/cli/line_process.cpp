// LineProcess: see line_process.hpp.
#include "line_process.hpp"

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace rebound::testing {

LineProcess::LineProcess(const std::string& program, const std::vector<std::string>& args, Options options) {
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (options.own_group) ::setpgid(0, 0);
    ::dup2(out[1], STDOUT_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::close_range(STDERR_FILENO + 1, ~0U, 0);  // none of the test's sockets
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (options.own_group) ::setpgid(pid_, pid_);  // also here: no window before the child ran
  ::close(out[1]);
  out_fd_ = out[0];
  if (!options.read_stdout) {
    ::fcntl(out_fd_, F_SETPIPE_SZ, 4096);
    return;
  }
  reader_ = std::thread([this] {
    std::string partial;
    char buf[4096];
    for (;;) {
      // A grandchild that outlived the process may hold the pipe open for
      // ever: the destructor's stop is checked between short waits.
      pollfd pfd{out_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) == 0) {
        if (stopping_) return;
        continue;
      }
      const auto n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return;
      partial.append(buf, static_cast<std::size_t>(n));
      for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
        {
          std::lock_guard lock(mutex_);
          lines_.push_back({std::chrono::steady_clock::now(), partial.substr(0, nl)});
        }
        changed_.notify_all();
        partial.erase(0, nl + 1);
      }
    }
  });
}

LineProcess::~LineProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::kill(pid_, SIGCONT);  // a stopped process dies only once it runs
    ::waitpid(pid_, nullptr, 0);
  }
  // Lines still in the pipe are read first; then it closed with the
  // process, or something the process started holds it: a quiet 100 ms.
  if (reader_.joinable()) {
    stopping_ = true;
    reader_.join();
  }
  ::close(out_fd_);
}

void LineProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int LineProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<LineProcess::Line> LineProcess::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

bool LineProcess::wait_for_line(const std::function<bool(const Line&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  std::size_t seen = 0;
  return changed_.wait_for(lock, timeout, [&] {
    for (; seen < lines_.size(); ++seen)
      if (pred(lines_[seen])) return true;
    return false;
  });
}

}  // namespace rebound::testing
