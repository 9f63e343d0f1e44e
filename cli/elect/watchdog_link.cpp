// WatchdogLink: see watchdog_link.hpp.
#include "elect/watchdog_link.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace rebound::cli::elect {

namespace {

int thread_count() {
  DIR* tasks = ::opendir("/proc/self/task");
  if (!tasks) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(tasks)) n += e->d_name[0] != '.';
  ::closedir(tasks);
  return n;
}

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error("rebound elect's watchdog: " + what + ": " + std::strerror(errno));
}

}  // namespace

WatchdogLink::WatchdogLink(const WatchdogConfig& config) {
  if (thread_count() > 1) throw std::logic_error("WatchdogLink must be created before any thread starts");
  int orders[2], reports[2];
  if (::pipe2(orders, O_CLOEXEC) != 0) throw system_error("pipe");
  if (::pipe2(reports, O_CLOEXEC) != 0) {
    ::close(orders[0]);
    ::close(orders[1]);
    throw system_error("pipe");
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    for (int fd : {orders[0], orders[1], reports[0], reports[1]}) ::close(fd);
    throw system_error("fork");
  }
  if (pid_ == 0) {
    ::close(orders[1]);
    ::close(reports[0]);
    run_watchdog(config, orders[0], reports[1]);
  }
  ::setpgid(pid_, pid_);  // as the watchdog does: no window inside our group
  ::close(orders[0]);
  ::close(reports[1]);
  orders_ = orders[1];
  reports_ = reports[0];
  // A watchdog that stops reading must not block elect: its orders then fail.
  ::fcntl(orders_, F_SETFL, ::fcntl(orders_, F_GETFL) | O_NONBLOCK);
  Report ready;
  if (!receive_message(reports_, &ready, sizeof ready) || ready.kind != ReportKind::ready || ready.value < 0) {
    const std::string why = ready.detail[0] ? ready.detail : "it exited before it was ready";
    close(std::chrono::seconds(2));
    throw std::runtime_error(why);
  }
  mode_ = static_cast<ContainmentMode>(ready.value);
  detail_ = ready.detail;
}

WatchdogLink::~WatchdogLink() {
  // A watchdog still busy after that keeps its report pipe; the reader
  // holds nothing of ours.
  if (!close(std::chrono::seconds(10)) && reader_.joinable()) reader_.detach();
}

bool WatchdogLink::send(const Order& order) { return orders_ >= 0 && send_message(orders_, &order, sizeof order); }

void WatchdogLink::start_reading(std::function<void(const std::optional<Report>&)> handler) {
  reader_ = std::thread([fd = reports_, handler = std::move(handler)] {
    Report r;
    while (receive_message(fd, &r, sizeof r)) handler(r);
    handler(std::nullopt);
  });
}

bool WatchdogLink::close(std::chrono::milliseconds bound) {
  if (orders_ >= 0) ::close(std::exchange(orders_, -1));
  bool exited = pid_ <= 0;
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!exited) {
    const pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
    exited = r == pid_ || (r < 0 && errno == ECHILD);
    if (exited || std::chrono::steady_clock::now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (exited) {
    pid_ = -1;
    if (reader_.joinable()) reader_.join();  // the report pipe closed with it
    if (reports_ >= 0) ::close(std::exchange(reports_, -1));
  }
  return exited;
}

}  // namespace rebound::cli::elect
