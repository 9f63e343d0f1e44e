// rebound_bench: Google Benchmark's main, after forking the embedded server
// the end-to-end and memory benchmarks talk to (see peer.hpp).
#include <benchmark/benchmark.h>

#ifdef REBOUND_BENCH_WITH_SERVER
#include "peer.hpp"
#endif

#include <cstdio>

int main(int argc, char** argv) {
#ifdef REBOUND_BENCH_WITH_SERVER
  // Before anything starts a thread: fork() is only safe then.
  if (!rebound_bench::start_peer())
    std::fprintf(stderr, "rebound_bench: embedded server did not start; end-to-end benchmarks skip\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef REBOUND_BENCH_WITH_SERVER
  benchmark::AddCustomContext("client_pinned_cpu0_server_cpu1", rebound_bench::peer().pinned ? "yes" : "no");
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#ifdef REBOUND_BENCH_WITH_SERVER
  if (rebound_bench::any_failure()) {
    std::fprintf(stderr, "rebound_bench: some requests failed or a benchmark could not run\n");
    return 1;
  }
#endif
  return 0;
}
