#include "peer.hpp"

#include <rebound/server/server.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace rebound_bench {
namespace {

Peer g_peer;
std::atomic<bool> g_failed{false};

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

[[noreturn]] void run_child(int report_fd, int parent_alive_fd, bool pin) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (pin) pin_to(1);
  std::uint16_t ports[2] = {0, 0};
  try {
    rebound::server::ServerOptions options;
    options.threads = 1;
    options.max_concurrent_streams = 100;
    rebound::server::Server h2c(options);
    h2c.start();
    options.tls = true;
    rebound::server::Server tls(options);
    tls.start();
    ports[0] = h2c.port();
    ports[1] = tls.port();
    if (::write(report_fd, ports, sizeof ports) != sizeof ports) ::_exit(1);
    ::close(report_fd);
    char c;
    while (::read(parent_alive_fd, &c, 1) < 0 && errno == EINTR) {
    }
    h2c.kill();
    tls.kill();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench peer server: %s\n", e.what());
    if (ports[0] == 0) (void)!::write(report_fd, ports, sizeof ports);
  }
  ::_exit(0);
}

}  // namespace

bool start_peer() {
  int report[2], alive[2];
  if (::pipe(report) != 0 || ::pipe(alive) != 0) return false;
  const bool pin = ::sysconf(_SC_NPROCESSORS_ONLN) >= 2;
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::close(report[0]);
    ::close(alive[1]);
    run_child(report[1], alive[0], pin);
  }
  ::close(report[1]);
  ::close(alive[0]);  // alive[1] stays open until we exit: the child's EOF
  std::uint16_t ports[2] = {0, 0};
  ssize_t got = 0;
  while (got < static_cast<ssize_t>(sizeof ports)) {
    const ssize_t r = ::read(report[0], reinterpret_cast<char*>(ports) + got, sizeof ports - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += r;
  }
  ::close(report[0]);
  if (got != sizeof ports || ports[0] == 0) return false;
  g_peer.h2c_port = ports[0];
  g_peer.tls_port = ports[1];
  g_peer.pinned = pin && pin_to(0);
  return true;
}

const Peer& peer() { return g_peer; }
void record_failure() { g_failed = true; }
bool any_failure() { return g_failed; }

}  // namespace rebound_bench
