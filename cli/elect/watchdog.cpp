// The watchdog process: see watchdog.hpp. One explicit state machine per
// term (idle -> running -> stopping -> killing -> idle), every transition
// in the handlers below, driven by one poll over the order pipe, a
// signalfd for SIGCHLD and a CLOCK_BOOTTIME timerfd.
#include "elect/watchdog.hpp"

#include "elect/fence_protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rebound::cli::elect {

namespace {

constexpr std::int64_t ms_ns = 1'000'000;

int exit_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

// Why the command's process failed before exec, sent back over a
// close-on-exec pipe (nothing arrives when the exec succeeded).
struct SpawnFailure {
  int stage = 0;  // 0: exec, 1: joining the cgroup
  int error = 0;
};

class Watchdog {
 public:
  Watchdog(const WatchdogConfig& config, int orders, int reports, const Containment& containment)
      : config_(config), orders_(orders), reports_(reports), containment_(containment) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    signals_ = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    timer_ = ::timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
  }

  void run() {
    while (!(elect_gone_ && state_ == State::idle)) {
      pollfd fds[3] = {{elect_gone_ ? -1 : orders_, POLLIN, 0}, {signals_, POLLIN, 0}, {timer_, POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0 && errno != EINTR) break;
      if (fds[1].revents) {
        signalfd_siginfo info;
        while (::read(signals_, &info, sizeof info) == sizeof info) {
        }
        reap();
      }
      if (fds[0].revents) {
        Order order;
        if (receive_message(orders_, &order, sizeof order)) on_order(order);
        else on_elect_gone();
      }
      if (fds[2].revents) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto n = ::read(timer_, &expirations, sizeof expirations);
        on_timer();
      }
      arm();
    }
  }

 private:
  enum class State {
    idle,      ///< no command
    running,   ///< the command runs within its bound
    stopping,  ///< SIGTERM sent; SIGKILL at kill_at_
    killing,   ///< SIGKILL sent; waiting for every process to be gone
  };

  void on_order(const Order& o) {
    switch (o.kind) {
      case OrderKind::start: return start(o);
      case OrderKind::extend:
        if (state_ == State::running && o.epoch == epoch_) deadline_ = std::max(deadline_, o.deadline_ns);
        return;
      case OrderKind::stop:
        if (state_ == State::running && o.epoch == epoch_) begin_stop(EndReason::asked);
        return;
    }
  }

  void on_elect_gone() {
    elect_gone_ = true;
    if (state_ == State::running) begin_stop(EndReason::elect_gone);
  }

  void on_timer() {
    const auto now = boot_now_ns();
    switch (state_) {
      case State::idle: return;
      case State::running:
        if (now >= deadline_) begin_stop(EndReason::bound_passed);
        return;
      case State::stopping:
        if (now >= kill_at_) kill_all();
        check_gone();
        return;
      case State::killing:
        containment_.signal_all(SIGKILL);  // again: anything forked since
        check_gone();
        return;
    }
  }

  void start(const Order& o) {
    Report r;
    r.epoch = o.epoch;
    if (state_ != State::idle) return fail_start(r, EBUSY, "the previous term's command is still stopping");
    if (o.deadline_ns <= boot_now_ns()) return fail_start(r, ETIME, "its leadership bound passed before it started");
    SpawnFailure failure;
    const pid_t pid = spawn(failure);
    if (pid < 0) {
      const std::string what = failure.stage == 1 ? "cannot join the cgroup " + containment_.detail()
                                                  : "cannot run " + config_.argv.front();
      return fail_start(r, failure.error, what + ": " + std::strerror(failure.error));
    }
    epoch_ = o.epoch;
    deadline_ = o.deadline_ns;
    main_pid_ = pid;
    main_status_.reset();
    state_ = State::running;
    r.kind = ReportKind::started;
    r.pid = pid;
    report(r);
  }

  void fail_start(Report& r, int error, const std::string& why) {
    r.kind = ReportKind::start_failed;
    r.value = error;
    r.set_detail(why);
    report(r);
  }

  pid_t spawn(SpawnFailure& failure) {
    std::vector<std::string> args = config_.argv;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int pipe[2];
    if (::pipe2(pipe, O_CLOEXEC) != 0) {
      failure.error = errno;
      return -1;
    }
    const pid_t watchdog = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      failure.error = errno;
      ::close(pipe[0]);
      ::close(pipe[1]);
      return -1;
    }
    if (pid == 0) {
      ::close(pipe[0]);
      exec_command(argv, watchdog, pipe[1]);
    }
    ::setpgid(pid, pid);  // also from here: a stop may come before the child ran
    ::close(pipe[1]);
    const bool failed = receive_message(pipe[0], &failure, sizeof failure);
    ::close(pipe[0]);
    if (!failed) return pid;
    ::waitpid(pid, nullptr, 0);
    return -1;
  }

  // In the command's process: a clean start (default signal dispositions
  // and mask: the ones elect ignores must not be ignored by the command),
  // its own process group, dying with the watchdog, inside the containment.
  [[noreturn]] void exec_command(std::vector<char*>& argv, pid_t watchdog, int report) {
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != watchdog) ::_exit(127);
    SpawnFailure failure;
    if (const int e = containment_.enter(); e != 0) {
      failure = {1, e};
      [[maybe_unused]] bool sent = send_message(report, &failure, sizeof failure);
      ::_exit(126);
    }
    if (config_.stdout_to_stderr) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execvp(argv[0], argv.data());
    failure = {0, errno};
    [[maybe_unused]] bool sent = send_message(report, &failure, sizeof failure);
    ::_exit(127);
  }

  void begin_stop(EndReason why) {
    why_ = why;
    const auto now = boot_now_ns();
    kill_at_ = std::min(now + config_.grace.count() * ms_ns, deadline_ + config_.kill_bound.count() * ms_ns);
    if (kill_at_ <= now) {
      kill_all();
    } else {
      containment_.signal_all(SIGTERM);
      state_ = State::stopping;
    }
    check_gone();
  }

  void kill_all() {
    containment_.signal_all(SIGKILL);
    state_ = State::killing;
  }

  // Reaps every child that ended (orphans come to us: we are their
  // subreaper); true when the command's first process was among them.
  bool collect() {
    bool main_ended = false;
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != main_pid_) continue;
      main_status_ = exit_status(status);
      main_ended = true;
    }
    children_left_ = !(pid < 0 && errno == ECHILD);
    return main_ended;
  }

  // SIGCHLD: the command's first process ending by itself ends its term.
  void reap() {
    if (collect() && state_ == State::running) {
      Report r;
      r.kind = ReportKind::exited;
      r.epoch = epoch_;
      r.pid = main_pid_;
      r.value = *main_status_;
      report(r);
      return begin_stop(EndReason::exited_by_itself);
    }
    if (state_ == State::stopping || state_ == State::killing) check_gone();
  }

  // The term ends when no process of the command is left: no child of ours
  // (every descendant's chain of parents ends at us) and an empty group.
  void check_gone() {
    collect();
    if (children_left_ || containment_.populated()) return;
    Report r;
    r.kind = ReportKind::ended;
    r.epoch = epoch_;
    r.pid = main_pid_;
    r.why = why_;
    r.value = main_status_.value_or(128 + SIGKILL);
    state_ = State::idle;
    main_pid_ = -1;
    report(r);
  }

  void arm() {
    const auto now = boot_now_ns();
    std::int64_t due = 0;
    switch (state_) {
      case State::idle: break;
      case State::running: due = deadline_; break;
      case State::stopping: due = std::min(kill_at_, now + 50 * ms_ns); break;
      case State::killing: due = now + 10 * ms_ns; break;
    }
    itimerspec spec{};
    if (due > 0) {
      due = std::max(due, now + 1);
      spec.it_value.tv_sec = due / 1'000'000'000;
      spec.it_value.tv_nsec = due % 1'000'000'000;
    }
    ::timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void report(const Report& r) {
    if (!reports_gone_) reports_gone_ = !send_message(reports_, &r, sizeof r);
  }

  const WatchdogConfig& config_;
  const int orders_;
  const int reports_;
  const Containment& containment_;
  int signals_ = -1;
  int timer_ = -1;

  State state_ = State::idle;
  std::uint64_t epoch_ = 0;
  std::int64_t deadline_ = 0;  ///< the leadership bound (boot clock)
  std::int64_t kill_at_ = 0;   ///< SIGKILL then (boot clock)
  EndReason why_ = EndReason::asked;
  pid_t main_pid_ = -1;
  std::optional<int> main_status_;
  bool children_left_ = false;
  bool elect_gone_ = false;
  bool reports_gone_ = false;
};

}  // namespace

void run_watchdog(const WatchdogConfig& config, int orders, int reports) {
  ::setpgid(0, 0);  // out of elect's group: job control on it (Ctrl-Z) does not reach us
  ::prctl(PR_SET_NAME, "elect-watchdog");
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2})
    ::signal(sig, SIG_IGN);
  Report ready;
  ready.kind = ReportKind::ready;
  ready.pid = ::getpid();
  try {
    const Containment containment(config.containment, "rebound-elect-" + std::to_string(::getpid()));
    ready.value = static_cast<int>(containment.mode());
    ready.set_detail(containment.detail());
    if (!send_message(reports, &ready, sizeof ready)) ::_exit(1);
    Watchdog(config, orders, reports, containment).run();
  } catch (const std::exception& e) {
    ready.value = -1;
    ready.set_detail(e.what());
    [[maybe_unused]] bool sent = send_message(reports, &ready, sizeof ready);
    ::_exit(1);
  }
  ::_exit(0);
}

}  // namespace rebound::cli::elect
