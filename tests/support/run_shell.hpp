// Runs a shell command line to its end and keeps its standard output and
// exit status: for tests that run `rebound ...` as a user would from a
// shell (redirections and `timeout` are the caller's, in the line).
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace rebound::testing {

struct ShellRun {
  int exit_code = -1;  ///< -1 when a signal ended it
  std::string out;
};

inline ShellRun run_shell(const std::string& command) {
  ShellRun r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace rebound::testing
