// A TCP fault proxy for rebound's fault tests: sits between a client and a
// server on 127.0.0.1 and makes network faults real for the kernel on both
// sides - RST on demand, silence (a pulled cable), latency, and connections
// cut after a byte budget.
//
// Thread safety: every public member may be called from any thread. The
// proxy runs its own I/O thread between start() and stop(). A control call
// (set_mode, set_delay, cut_after_bytes, reset_all) returns once the change
// is in effect on the I/O thread, so a test may act on the new behaviour
// straight after the call returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace rebound::proxy {

struct ProxyOptions {
  std::string listen_host = "127.0.0.1";  ///< an IP address literal
  std::uint16_t listen_port = 0;          ///< 0 picks a free port; see port()
  std::string target_host = "127.0.0.1";  ///< resolved once, in start()
  std::uint16_t target_port = 0;
};

/// What the proxy does with connections, current and new.
enum class Mode {
  /// Forward both ways (the default). Switching back to pass resumes
  /// forwarding on connections that are still open, including bytes held
  /// while blackholed (as TCP retransmission would after a cable is plugged
  /// back in).
  pass,
  /// RST (SO_LINGER 0 + close) both sides of every current connection, and
  /// every new connection as soon as it is accepted.
  reset,
  /// Keep every socket open but forward nothing either way and never close:
  /// the peers see silence. The proxy stops reading, so the peers' writes
  /// succeed until the kernel buffers fill. New connections are accepted and
  /// held without connecting upstream until the mode goes back to pass.
  blackhole,
};

class FaultProxy {
 public:
  struct Stats {
    std::uint64_t accepted = 0;                ///< every accept, including those reset at once
    std::uint64_t bytes_client_to_server = 0;  ///< bytes written to the upstream
    std::uint64_t bytes_server_to_client = 0;  ///< bytes written to clients
    std::uint64_t open = 0;                    ///< connections accepted and not yet closed
  };

  explicit FaultProxy(ProxyOptions options);
  /// Calls stop().
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// Resolves the target, binds the listening socket (SO_REUSEADDR) and
  /// starts the I/O thread. Call once. Throws std::runtime_error (a
  /// boost::system::system_error) when the target does not resolve or the
  /// address cannot be bound; std::logic_error when called twice.
  void start();
  /// Closes the listener and every connection (plain close, no RST) and
  /// joins the I/O thread. Idempotent; the proxy cannot be started again.
  void stop();
  /// The bound listening port; 0 before start().
  std::uint16_t port() const;

  /// See Mode. Setting the mode already in effect repeats its action (reset
  /// resets the connections opened since).
  void set_mode(Mode m);
  /// Adds `d` of latency to each chunk forwarded in either direction,
  /// counted from when the proxy read it; order is preserved and reading
  /// goes on meanwhile. Applies to chunks read from now on.
  void set_delay(std::chrono::milliseconds d);
  /// Each connection accepted from now on is reset (RST both sides) once
  /// `n` bytes in total, both directions together, have been forwarded on
  /// it; the chunk that reaches the budget is cut to fit. 0 disables.
  void cut_after_bytes(std::uint64_t n);
  /// RSTs every current connection once; the mode is unchanged.
  void reset_all();
  /// Every connection open now goes silent for good - nothing forwarded,
  /// nothing closed - while the mode stays as it is for new connections:
  /// a path that died without a FIN or RST while the server stays
  /// reachable. Only the client's health checks can find such a connection.
  void blackhole_current();

  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebound::proxy
