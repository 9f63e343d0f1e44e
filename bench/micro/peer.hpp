// The embedded server (rebound::server::Server, h2c and TLS) run in a forked
// child process, so that the benchmarks' CPU and memory figures are the
// client's alone. Call start_peer() from main() before any thread exists.
#pragma once

#include <cstdint>
#include <string>

namespace rebound_bench {

struct Peer {
  std::uint16_t h2c_port = 0;
  std::uint16_t tls_port = 0;
  bool pinned = false;  ///< client on CPU 0, server on CPU 1
  std::string h2c_url() const { return "http://127.0.0.1:" + std::to_string(h2c_port); }
  std::string tls_url() const { return "https://127.0.0.1:" + std::to_string(tls_port); }
  bool running() const { return h2c_port != 0 && tls_port != 0; }
};

/// Records that a benchmark failed (skipped for an error, or requests
/// failed): main() then exits non-zero, so the CI smoke test catches it.
void record_failure();
bool any_failure();

/// Forks the server process; returns false (and the benchmarks that need it
/// skip) when it could not start. The child dies with this process.
bool start_peer();
const Peer& peer();

}  // namespace rebound_bench
