// What happens when an internal invariant breaks (a bug in rebound, never a
// peer's or caller's doing): checked builds (Debug, sanitizers; see the
// top-level CMakeLists) print it and abort so a test catches it at once;
// release builds refuse the move and carry on, and the caller counts it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace rebound::inflight {

[[maybe_unused]] inline void invariant_failed(const std::string& what, const char* file, int line) {
#if defined(REBOUND_CHECKED)
  std::fprintf(stderr, "rebound: invariant broken at %s:%d: %s\n", file, line, what.c_str());
  std::abort();
#else
  (void)what, (void)file, (void)line;
#endif
}

}  // namespace rebound::inflight

#define REBOUND_INVARIANT_FAILED(what) ::rebound::inflight::invariant_failed((what), __FILE__, __LINE__)
