// libFuzzer harness for the origin pool: the fuzzer's bytes are the model's
// choices (tests/pool/pool_model.hpp) - the configuration, then each step
// and its details - so coverage guides it to the pool's rarer states. Every
// invariant is checked after every step; a violation aborts with the trace.
// At exit it prints how often each kind of step ran, and fails when a kind
// never ran in a run of more than a few thousand inputs.
#include "pool/pool_model.hpp"

#include "fuzz_check.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace rebound::pool::model;

std::array<std::uint64_t, step_kinds> totals{};
std::uint64_t inputs = 0;

void print_totals() {
  std::fprintf(stderr, "pool_fuzz: %llu inputs\n", static_cast<unsigned long long>(inputs));
  bool all = true;
  for (std::size_t k = 0; k < step_kinds; ++k) {
    std::fprintf(stderr, "  %s: %llu\n", to_string(static_cast<Step>(k)), static_cast<unsigned long long>(totals[k]));
    all = all && totals[k] > 0;
  }
  if (!all && inputs > 5000) {
    std::fprintf(stderr, "pool_fuzz: a kind of step never ran\n");
    std::_Exit(1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (inputs++ == 0) std::atexit(print_totals);
  ByteChoices choices(data, size);
  const Report r = run(choices, 400);
  for (std::size_t k = 0; k < step_kinds; ++k) totals[k] += r.steps[k];
  FUZZ_CHECK(r.violation.empty(), "%s", r.violation.c_str());
  return 0;
}
