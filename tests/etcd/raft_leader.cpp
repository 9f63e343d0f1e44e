// raft_leader: see raft_leader.hpp.
#include "raft_leader.hpp"

#include <rebound/client.hpp>

namespace rebound::testing {

std::optional<int> raft_leader(const EtcdCluster& cluster) {
  rebound::Options o = cluster.client_options();
  o.http_version = rebound::HttpVersion::http1_only;  // etcd serves /metrics on HTTP/1.1; h2c is gRPC only
  rebound::Client client(o);
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.running(i)) continue;
    auto r = client.send(rebound::Request::get(cluster.client_url(i) + "/metrics").timeout(std::chrono::seconds(2)));
    if (r && r->status() == 200 && r->body().find("\netcd_server_is_leader 1") != std::string::npos) return i;
  }
  return std::nullopt;
}

}  // namespace rebound::testing
