// What the kernel holds for one loopback TCP connection, read from
// /proc/net/tcp: how many bytes have arrived at a socket and not been read by
// the process that owns it. Tests use it to wait until a peer (the fault
// proxy, a server in a child process) has really taken what was sent,
// instead of sleeping and hoping it has.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace rebound::testing {

/// Bytes queued for reading on the IPv4 socket whose local port is
/// `local_port` and whose peer's port is `remote_port` (any address), or
/// nullopt when there is no such socket. On loopback a write() has put its
/// bytes into the peer's queue by the time it returns, so 0 here after a
/// write means the owner of the socket has read them.
inline std::optional<std::uint64_t> unread_bytes(std::uint16_t local_port, std::uint16_t remote_port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    // "  sl  local_address rem_address   st tx_queue:rx_queue ..." with
    // addresses as hex "0100007F:1F90" (address:port).
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    if (!(fields >> slot >> local >> remote >> state >> queues)) continue;
    const auto port_of = [](const std::string& address) {
      return static_cast<std::uint16_t>(std::stoul(address.substr(address.find(':') + 1), nullptr, 16));
    };
    if (port_of(local) != local_port || port_of(remote) != remote_port) continue;
    return std::stoull(queues.substr(queues.find(':') + 1), nullptr, 16);
  }
  return std::nullopt;
}

/// Waits (polling, up to `limit`) until the socket local_port <- remote_port
/// exists and has nothing left unread. False when the limit passed first.
inline bool wait_until_read(std::uint16_t local_port, std::uint16_t remote_port,
                            std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (unread_bytes(local_port, remote_port) == std::uint64_t{0}) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace rebound::testing
