// Two network namespaces joined by a veth pair - a client's and a server's
// host on one machine - and a partition between them: the server's
// namespace drops every packet in and out (nftables) until healed. The
// addresses (10.213.x.1 and .2, and more server addresses on request)
// (fd00:213:x::N for IPv6) exist only inside these namespaces; both are deleted, veth included,
// when the pair is destroyed. The client's namespace may have a hosts file
// of its own, so that names resolve there without any DNS: `ip netns exec`
// bind-mounts /etc/netns/NAME/hosts over /etc/hosts for what it runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rebound::testing {

class NetnsPair {
 public:
  /// Why namespaces cannot be made here (not root, no `ip` or `nft`, the
  /// kernel refuses), or nullopt when they can.
  static std::optional<std::string> unavailable();

  /// Creates both namespaces and the link; throws std::runtime_error naming
  /// the command that failed.
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  /// The path of `ip`, and the arguments that run `argv` inside a namespace.
  static std::string ip_path();
  std::vector<std::string> in_client(const std::vector<std::string>& argv) const;
  std::vector<std::string> in_server(const std::vector<std::string>& argv) const;
  const std::string& server_address() const { return server_address_; }

  /// Adds another address (10.213.x.N, N = 3, 4...) to the server's
  /// interface and returns it.
  std::string add_server_address();
  /// Adds an IPv6 address (fd00:213:x::N, N = 2, 3...) to the server's
  /// interface - the client's gets fd00:213:x::1 with the first - and
  /// returns it. Without duplicate address detection (`nodad`), so it
  /// works at once.
  std::string add_server_address6();
  /// Packets to `address` (IPv4 or IPv6, one of the server's) are dropped
  /// in the server's namespace from now on: a SYN is never answered.
  void blackhole(const std::string& address);
  /// The client's /etc/hosts (`text`, hosts(5) lines), for what runs in
  /// the client's namespace.
  void set_client_hosts(const std::string& text);

  /// Every packet to or from the server's namespace is dropped from now on.
  void partition();
  /// Packets flow again.
  void heal();
  /// Whether both namespaces still exist (false once destroyed).
  static bool exists(const std::string& name);
  const std::string& client_ns() const { return client_ns_; }
  const std::string& server_ns() const { return server_ns_; }

 private:
  std::string client_ns_, server_ns_, server_address_, subnet_, server_device_;
  int extra_addresses_ = 0, extra_addresses6_ = 0;
};

}  // namespace rebound::testing
