// `rebound ARGS` run to its end, as a user would from a shell, for the tests
// of how `rebound serve` starts (or refuses to) with a leases file.
#pragma once

#include "support/run_shell.hpp"

#include <string>

namespace rebound::lease::testing {

using Run = rebound::testing::ShellRun;  ///< out: stdout and stderr

/// Runs `rebound ARGS` with stdin from /dev/null, cut off after 10 s (a
/// server that should have refused to start would serve forever: exit 124).
inline Run run_rebound(const std::string& args) {
  return rebound::testing::run_shell("timeout 10 " + std::string(REBOUND_CLI_PATH) + " " + args + " </dev/null 2>&1");
}

}  // namespace rebound::lease::testing
