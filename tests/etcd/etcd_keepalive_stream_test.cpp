// The etcd lock's renewals on one long-lived LeaseKeepAlive stream
// (election/src/etcd_keepalive_stream.*), against a real cluster: renewals
// share the stream; a member killed under it ends the stream, the renewal
// fails over, and the next one opens a stream to the next member.
#include "etcd_cluster.hpp"
#include "etcd_suite.hpp"

#include "election_state.hpp"
#include "etcd_api.hpp"

#include <gtest/gtest.h>

using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

class EtcdKeepAliveStream : public EtcdSuite {};

rebound::Options backend_options(const EtcdCluster& cluster) {
  rebound::lease::LeaderElectionConfig cfg;
  cfg.client_options = cluster.client_options();
  return rebound::lease::detail::etcd_client_options(cfg);
}

}  // namespace

TEST_F(EtcdKeepAliveStream, RenewalsShareOneStreamAndMoveToTheNextMemberWhenTheirsDies) {
  rebound::lease::detail::EtcdApi api(backend_options(*cluster), {cluster->client_url(2), cluster->client_url(0)});
  const rebound::Cancellation cancel;
  auto granted = api.grant(5, 5s, cancel);
  ASSERT_TRUE(granted.ok()) << granted.status.to_string();
  for (int i = 0; i < 3; ++i) {
    auto kept = api.keep_alive(granted.reply.id(), 5s, cancel);
    ASSERT_TRUE(kept.ok()) << kept.status.to_string();
    EXPECT_EQ(kept.reply.id(), granted.reply.id());
    EXPECT_GT(kept.reply.ttl(), 0);
  }
  EXPECT_EQ(api.keepalive_streams_opened(), 1);
  cluster->kill(2);
  // The renewal on the dead member's stream fails (it says nothing about
  // the lease) and the calls move on; the next renewal opens a stream to
  // the next member.
  auto lost = api.keep_alive(granted.reply.id(), 2s, cancel);
  EXPECT_FALSE(lost.ok());
  EXPECT_EQ(api.endpoint(), cluster->client_url(0));
  auto kept = api.keep_alive(granted.reply.id(), 5s, cancel);
  EXPECT_TRUE(kept.ok()) << kept.status.to_string();
  EXPECT_GE(api.keepalive_streams_opened(), 2);
  // (The suite's cluster goes with it: member 2 stays down.)
}

