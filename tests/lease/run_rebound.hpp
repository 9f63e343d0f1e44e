// `rebound ARGS` run to its end, as a user would from a shell, for the tests
// of how `rebound serve` starts (or refuses to) with a leases file.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace rebound::lease::testing {

struct Run {
  int exit_code = -1;
  std::string out;  ///< stdout and stderr
};

/// Runs `rebound ARGS` with stdin from /dev/null, cut off after 10 s (a
/// server that should have refused to start would serve forever: exit 124).
inline Run run_rebound(const std::string& args) {
  const std::string cmd = "timeout 10 " + std::string(REBOUND_CLI_PATH) + " " + args + " </dev/null 2>&1";
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace rebound::lease::testing
