// The one way a harness reports a broken invariant: print what broke and
// abort, so libFuzzer saves the input as a crash (crash-<sha1>) and the run
// fails. Harnesses never throw or return an error for this.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                                   \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ", __FILE__,    \
                   __LINE__, #cond);                                            \
      std::fprintf(stderr, __VA_ARGS__);                                        \
      std::fprintf(stderr, "\n");                                               \
      std::abort();                                                             \
    }                                                                           \
  } while (0)
