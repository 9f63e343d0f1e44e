// NetnsPair: see netns_pair.hpp. Every step is an `ip` or `nft` command.
#include "netns_pair.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace rebound::testing {
namespace {

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return std::string(dir) + name;
  return {};
}

int sh(const std::string& command) { return std::system((command + " > /dev/null 2>&1").c_str()); }

void must(const std::string& command) {
  if (sh(command) != 0) throw std::runtime_error("failed: " + command);
}

}  // namespace

std::optional<std::string> NetnsPair::unavailable() {
  if (::geteuid() != 0) return "network namespaces need root";
  if (find_program("ip").empty()) return "no `ip` (Debian package iproute2)";
  if (find_program("nft").empty()) return "no `nft` (Debian package nftables)";
  const std::string probe = "rbprobe" + std::to_string(::getpid());
  if (sh(find_program("ip") + " netns add " + probe) != 0) return "this kernel or sandbox refuses `ip netns add`";
  const bool nft_ok = sh(find_program("ip") + " netns exec " + probe + " " + find_program("nft") + " list ruleset") == 0;
  sh(find_program("ip") + " netns del " + probe);
  if (!nft_ok) return "nftables does not work inside a network namespace here";
  return std::nullopt;
}

std::string NetnsPair::ip_path() { return find_program("ip"); }

NetnsPair::NetnsPair() {
  const auto pid = static_cast<unsigned>(::getpid());
  const std::string tag = "rb" + std::to_string(pid % 100000);
  client_ns_ = tag + "c";
  server_ns_ = tag + "s";
  const std::string subnet = "10.213." + std::to_string(pid % 250);
  subnet_ = subnet;
  server_device_ = tag + "s0";
  server_address_ = subnet + ".2";
  const std::string ip = ip_path();
  try {
    must(ip + " netns add " + client_ns_);
    must(ip + " netns add " + server_ns_);
    must(ip + " link add " + tag + "c0 netns " + client_ns_ + " type veth peer name " + tag + "s0 netns " + server_ns_);
    must(ip + " -n " + client_ns_ + " addr add " + subnet + ".1/24 dev " + tag + "c0");
    must(ip + " -n " + server_ns_ + " addr add " + server_address_ + "/24 dev " + tag + "s0");
    for (const auto& [ns, dev] : {std::pair{client_ns_, tag + "c0"}, std::pair{server_ns_, tag + "s0"}}) {
      must(ip + " -n " + ns + " link set lo up");
      must(ip + " -n " + ns + " link set " + dev + " up");
    }
  } catch (...) {
    sh(ip + " netns del " + client_ns_);
    sh(ip + " netns del " + server_ns_);
    throw;
  }
}

NetnsPair::~NetnsPair() {
  std::error_code ignored;
  std::filesystem::remove_all("/etc/netns/" + client_ns_, ignored);
  // Deleting a namespace deletes its end of the veth, and with it the pair.
  sh(ip_path() + " netns del " + client_ns_);
  sh(ip_path() + " netns del " + server_ns_);
}

std::vector<std::string> NetnsPair::in_client(const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"netns", "exec", client_ns_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> NetnsPair::in_server(const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"netns", "exec", server_ns_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string NetnsPair::add_server_address() {
  const std::string address = subnet_ + "." + std::to_string(3 + extra_addresses_++);
  must(ip_path() + " -n " + server_ns_ + " addr add " + address + "/24 dev " + server_device_);
  return address;
}

std::string NetnsPair::add_server_address6() {
  const std::string prefix = "fd00:213:" + subnet_.substr(subnet_.rfind('.') + 1) + "::";
  if (extra_addresses6_ == 0) {
    const std::string client_device = server_device_.substr(0, server_device_.size() - 2) + "c0";
    must(ip_path() + " -n " + client_ns_ + " addr add " + prefix + "1/64 dev " + client_device + " nodad");
  }
  const std::string address = prefix + std::to_string(2 + extra_addresses6_++);
  must(ip_path() + " -n " + server_ns_ + " addr add " + address + "/64 dev " + server_device_ + " nodad");
  return address;
}

void NetnsPair::blackhole(const std::string& address) {
  const char* family = address.find(':') == std::string::npos ? "ip" : "ip6";
  must(ip_path() + " netns exec " + server_ns_ + " " + find_program("nft") +
       " 'add table inet rebound_blackhole; "
       "add chain inet rebound_blackhole in { type filter hook input priority 0; policy accept; }; "
       "add rule inet rebound_blackhole in " + family + " daddr " + address + " drop'");
}

void NetnsPair::set_client_hosts(const std::string& text) {
  const std::filesystem::path dir = "/etc/netns/" + client_ns_;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "hosts") << "127.0.0.1 localhost\n" << text;
}

void NetnsPair::partition() {
  must(ip_path() + " netns exec " + server_ns_ + " " + find_program("nft") +
       " 'add table inet rebound_partition; "
       "add chain inet rebound_partition in { type filter hook input priority 0; policy drop; }; "
       "add chain inet rebound_partition out { type filter hook output priority 0; policy drop; }'");
}

void NetnsPair::heal() {
  must(ip_path() + " netns exec " + server_ns_ + " " + find_program("nft") + " delete table inet rebound_partition");
}

bool NetnsPair::exists(const std::string& name) {
  return std::filesystem::exists("/run/netns/" + name);
}

}  // namespace rebound::testing
