// Which member of an EtcdCluster is raft's leader now, from each member's
// own metrics (`etcd_server_is_leader 1` on GET /metrics, served over
// HTTP/1.1 on the client URL): a test that must keep a follower alive
// (a raft leader cut off from its followers still renews leases on its own
// until it steps down) kills the leader on purpose.
#pragma once

#include "etcd_cluster.hpp"

#include <optional>

namespace rebound::testing {

/// The running member that says it leads; nullopt when none does.
std::optional<int> raft_leader(const EtcdCluster& cluster);

}  // namespace rebound::testing
