// SupervisedCommand: see supervised_command.hpp.
#include "elect/supervised_command.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rebound::cli::elect {

SupervisedCommand::~SupervisedCommand() {
  std::lock_guard lock(mutex_);
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

pid_t SupervisedCommand::start() {
  std::lock_guard lock(mutex_);
  if (pid_ > 0) return pid_;
  // Built before fork: the child of a threaded process should not allocate.
  std::vector<std::string> args = argv_;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The exec's failure comes back through a close-on-exec pipe: nothing
  // arrives when the exec succeeded.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    error_ = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error_ = std::string("fork: ") + std::strerror(errno);
    ::close(report[0]);
    ::close(report[1]);
    return -1;
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group: a stop reaches everything it started
    // Dies with `rebound elect`, even a SIGKILLed one, so no command
    // outlives the leadership it ran under. The parent may have died
    // before the prctl: then exit at once.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    if (stdout_to_stderr_) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execvp(argv[0], argv.data());
    const int e = errno;
    [[maybe_unused]] auto n = ::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here: no race with a stop before the child ran
  ::close(report[1]);
  int child_errno = 0;
  const auto n = ::read(report[0], &child_errno, sizeof child_errno);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    ::waitpid(pid, nullptr, 0);
    error_ = "cannot run " + argv_.front() + ": " + std::strerror(child_errno);
    return -1;
  }
  pid_ = pid;
  error_.clear();
  return pid_;
}

std::optional<int> SupervisedCommand::stop(std::chrono::milliseconds grace) {
  std::lock_guard lock(mutex_);
  if (pid_ <= 0) return std::nullopt;
  ::kill(-pid_, SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + grace;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= give_up) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Whatever else the command started in its group goes with it.
  ::kill(-pid_, SIGKILL);
  pid_ = -1;
  return exit_code(status);
}

std::optional<int> SupervisedCommand::poll_exit() {
  std::lock_guard lock(mutex_);
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  ::kill(-pid_, SIGKILL);
  pid_ = -1;
  return exit_code(status);
}

bool SupervisedCommand::running() const {
  std::lock_guard lock(mutex_);
  return pid_ > 0;
}

std::string SupervisedCommand::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

int SupervisedCommand::exit_code(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace rebound::cli::elect
