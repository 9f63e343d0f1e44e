// A command for `rebound elect` tests that is hard to stop, as real
// workers are: it appends "tick ID NS PID" (NS: CLOCK_MONOTONIC, the test's
// steady clock) to RECORD every 100 ms, one write per line.
//
//   tick_worker RECORD ID [--detach] [--ignore-term]
//
// --detach: the ticking worker is a grandchild in a session of its own
//   (setsid, then a second fork): out of the command's process group, and
//   reparented away from it. This process stays, waiting, as a forking
//   server's parent would (SIGTERM ends it).
// --ignore-term: the ticking worker ignores SIGTERM; only SIGKILL ends it.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

[[noreturn]] void tick(const char* record, const char* id, bool ignore_term) {
  if (ignore_term) ::signal(SIGTERM, SIG_IGN);
  for (;;) {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    char line[256];
    const int n = std::snprintf(line, sizeof line, "tick %s %lld %d\n", id,
                                static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec, ::getpid());
    const int fd = ::open(record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0) {
      [[maybe_unused]] auto written = ::write(fd, line, static_cast<std::size_t>(n));
      ::close(fd);
    }
    ::usleep(100'000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tick_worker RECORD ID [--detach] [--ignore-term]\n");
    return 2;
  }
  bool detach = false, ignore_term = false;
  for (int i = 3; i < argc; ++i) {
    detach |= std::strcmp(argv[i], "--detach") == 0;
    ignore_term |= std::strcmp(argv[i], "--ignore-term") == 0;
  }
  if (!detach) tick(argv[1], argv[2], ignore_term);
  const pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    if (::fork() == 0) tick(argv[1], argv[2], ignore_term);
    ::_exit(0);
  }
  ::waitpid(middle, nullptr, 0);
  for (;;) ::pause();
}
