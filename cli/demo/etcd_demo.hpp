// `rebound demo --backend etcd`: the way past one machine. Two candidates
// elect a leader on a 3-member etcd cluster (started on loopback, or the
// members given with --endpoints); the member the leader talks to is
// SIGKILLed and restarted, again and again, while the leader keeps its
// lease (its renewals move to the other members); then the leader dies
// without releasing and the standby takes over within the TTL.
#pragma once

#include <string>
#include <vector>

namespace rebound::cli::demo {

struct EtcdDemoFlags {
  bool json = false;
  std::string svg;
  int kills = 3;
  bool verbose = false;
  std::vector<std::string> endpoints;  ///< empty: start a cluster of the installed etcd
};

/// 0 only when the leader kept its lease through the member kills (never a
/// moment without it), never two leaders at one moment, and the standby
/// took over within the bound; 1 otherwise; 2 when there is no etcd to use.
int run_etcd_demo(const EtcdDemoFlags& flags);

}  // namespace rebound::cli::demo
