// ChildProcess: fork/exec of our own executable with a pipe for stdout.
#include "child_process.hpp"

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace rebound::process {

ChildProcess::ChildProcess(std::string program, std::vector<std::string> args, Stdin in) {
  // Built before fork: the child of a threaded process should not allocate.
  std::vector<char*> argv;
  argv.push_back(program.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int commands[2] = {-1, -1};
  if (in == Stdin::pipe && ::pipe2(commands, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // No PR_SET_PDEATHSIG here: it fires when the forking *thread* ends,
    // and the soak's fault injector restarts servers from a thread that
    // ends before they should (the soak then saw its servers vanish).
    ::dup2(out[1], STDOUT_FILENO);
    if (commands[0] >= 0) {
      ::dup2(commands[0], STDIN_FILENO);
    } else {
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);  // no fault commands from our terminal
    }
    // Asio opens sockets without close-on-exec: a child holding copies of
    // the parent's connections would keep them open after the parent
    // closes or resets them (no FIN, no RST reaches the peer).
    ::close_range(STDERR_FILENO + 1, ~0U, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (commands[0] >= 0) ::close(commands[0]);
  stdin_ = commands[1];
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') first_line_ += c;
  if (stdin_ >= 0) stdout_ = out[0];
  else ::close(out[0]);
  if (first_line_.empty()) {
    signal_and_reap(SIGKILL);
    throw std::runtime_error("child process printed nothing");
  }
}

ChildProcess::~ChildProcess() {
  kill();
  if (stdin_ >= 0) ::close(stdin_);
  if (stdout_ >= 0) ::close(stdout_);
}

std::string ChildProcess::send_line(const std::string& line, int timeout_ms) {
  if (stdin_ < 0 || pid_ <= 0) return {};
  const std::string bytes = line + "\n";
  // MSG_NOSIGNAL does not apply to pipes: a gone child must not SIGPIPE us.
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  const bool ok = ::write(stdin_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::sigaction(SIGPIPE, &old, nullptr);
  if (!ok) return {};
  std::string answer;
  char c;
  for (;;) {
    pollfd p{stdout_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1 || ::read(stdout_, &c, 1) != 1) return {};
    if (c == '\n') return answer;
    answer += c;
  }
}

void ChildProcess::kill() { signal_and_reap(SIGKILL); }
void ChildProcess::terminate() { signal_and_reap(SIGTERM); }

void ChildProcess::signal_and_reap(int sig) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace rebound::process
