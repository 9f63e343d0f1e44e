// The soak's servers and proxies, and the one place that carries out a
// schedule Action on them. Four servers - an in-process TLS and plain server
// (rebound::server::Server, for GOAWAY, refusals, resets, drops and window
// changes) and two `rebound serve` child processes (for a real SIGKILL) -
// each behind its own FaultProxy. Every server appends what it ran to its
// own request log; clients only ever reach servers through the proxies.
#pragma once

#include <rebound/soak/schedule.hpp>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::soak {

/// The harness could not do its part (a server would not restart): not a
/// finding about the client.
struct HarnessError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Rig {
 public:
  /// Writes a certificate into `dir` (which must exist) and starts every
  /// server and proxy. Throws HarnessError.
  explicit Rig(std::string dir);
  ~Rig();  ///< stop()
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  /// "https://127.0.0.1:P" of the proxy in front of `s`.
  std::string url(ServerSlot s) const;
  /// The CA clients trust: the servers' shared self-signed certificate.
  std::string ca_file() const;
  std::string request_log(ServerSlot s) const;
  /// Child servers' process ids (for their CPU time), -1 while down.
  std::vector<pid_t> child_pids() const;

  /// Carries out `a`. Only the schedule's thread calls it. Throws
  /// HarnessError when a server cannot be brought back.
  void apply(const Action& a);
  /// Stops proxies and servers (children by SIGKILL). Idempotent.
  void stop();

 private:
  struct Slot;
  std::string dir_;
  std::array<std::unique_ptr<Slot>, server_count> slots_;
};

}  // namespace rebound::soak
