// rebound::grpc against real etcd members (a 3-member cluster on loopback):
// unary calls, a trailers-only status from the server, one-message
// LeaseKeepAlive calls, a server-streaming call, cancellation, TLS with
// client certificates, and recovery after a member is killed and restarted.
#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"
#include "etcd_suite.hpp"
#include "support/test_pki.hpp"

#include <rebound/grpc/channel.hpp>

#include <gtest/gtest.h>

#include <thread>

using namespace rebound::testing;
using namespace std::chrono_literals;
namespace v3 = rebound_etcd::v3;
using rebound::grpc::StatusCode;

namespace {

class EtcdGrpc : public EtcdSuite {};

}  // namespace

TEST_F(EtcdGrpc, AUnaryTxnWritesAndARangeReadsItBackFromAnotherMember) {
  rebound::Client client(cluster->client_options());
  v3::TxnRequest txn;
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key("grpc/unary");
  put->set_value("v1");
  auto written = etcd_call<v3::TxnResponse>(client, cluster->client_url(0), "/etcdserverpb.KV/Txn", txn, 5s);
  ASSERT_TRUE(written);
  EXPECT_TRUE(written->succeeded());

  v3::RangeRequest range;
  range.set_key("grpc/unary");
  auto read = etcd_call<v3::RangeResponse>(client, cluster->client_url(1), "/etcdserverpb.KV/Range", range, 5s);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->kvs_size(), 1);
  EXPECT_EQ(read->kvs(0).value(), "v1");
}

TEST_F(EtcdGrpc, TheServersStatusIsReturnedAsAnAnswerNotAFailureOfTheTransport) {
  rebound::Client client(cluster->client_options());
  rebound::grpc::Channel channel(client, cluster->client_url(0));
  // An unknown method: grpc-go answers with a trailers-only response.
  auto r = channel.unary("/etcdserverpb.KV/NoSuchMethod", "", {.timeout = 5s});
  EXPECT_EQ(r.status.code, StatusCode::unimplemented) << r.status.to_string();
  EXPECT_TRUE(r.status.from_server);
  EXPECT_FALSE(r.status.transport);
  // An application error: revoking a lease that does not exist.
  v3::LeaseRevokeRequest revoke;
  revoke.set_id(0x7fffffff);
  auto missing = channel.unary("/etcdserverpb.Lease/LeaseRevoke", revoke.SerializeAsString(), {.timeout = 5s});
  EXPECT_EQ(missing.status.code, StatusCode::not_found) << missing.status.to_string();
  EXPECT_NE(missing.status.message.find("lease not found"), std::string::npos) << missing.status.message;
}

TEST_F(EtcdGrpc, AKeepaliveIsOneMessageAndEndStreamAndEtcdAnswersThenEndsTheStream) {
  rebound::Client client(cluster->client_options());
  v3::LeaseGrantRequest grant;
  grant.set_ttl(5);
  auto granted = etcd_call<v3::LeaseGrantResponse>(client, cluster->client_url(0), "/etcdserverpb.Lease/LeaseGrant",
                                                   grant, 5s);
  ASSERT_TRUE(granted);
  ASSERT_NE(granted->id(), 0);
  EXPECT_GE(granted->ttl(), 5) << "etcd grants at least what was asked";
  for (int i = 0; i < 3; ++i) {
    v3::LeaseKeepAliveRequest keep;
    keep.set_id(granted->id());
    rebound::grpc::Status status;
    auto kept = etcd_call<v3::LeaseKeepAliveResponse>(client, cluster->client_url(i),
                                                      "/etcdserverpb.Lease/LeaseKeepAlive", keep, 5s, &status);
    ASSERT_TRUE(kept) << status.to_string();
    EXPECT_EQ(kept->id(), granted->id());
    EXPECT_GT(kept->ttl(), 0);
  }
  v3::LeaseRevokeRequest revoke;
  revoke.set_id(granted->id());
  ASSERT_TRUE(etcd_call<v3::LeaseRevokeResponse>(client, cluster->client_url(2), "/etcdserverpb.Lease/LeaseRevoke",
                                                 revoke, 5s));
  v3::LeaseKeepAliveRequest gone;
  gone.set_id(granted->id());
  auto after = etcd_call<v3::LeaseKeepAliveResponse>(client, cluster->client_url(0),
                                                     "/etcdserverpb.Lease/LeaseKeepAlive", gone, 5s);
  ASSERT_TRUE(after);
  EXPECT_LE(after->ttl(), 0) << "a revoked lease is answered with TTL 0";
}

TEST_F(EtcdGrpc, AServerStreamingCallDeliversEachMessageAsItArrives) {
  rebound::Client client(cluster->client_options());
  rebound::grpc::Channel channel(client, cluster->client_url(0));
  // Maintenance.Snapshot streams the database in chunks, the last with
  // remaining_bytes 0.
  std::atomic<int> messages{0};
  std::atomic<std::size_t> bytes{0};
  const auto status = channel.server_streaming(
      "/etcdserverpb.Maintenance/Snapshot", "",
      [&](std::string_view m) {
        ++messages;
        bytes += m.size();
        return true;
      },
      {.timeout = 10s});
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_GE(messages.load(), 1);
  EXPECT_GT(bytes.load(), 1000u);
}

TEST_F(EtcdGrpc, ACancelledCallIsCancelledByUsNotAnsweredByTheServer) {
  rebound::Client client(cluster->client_options());
  rebound::grpc::Channel channel(client, cluster->client_url(0));
  rebound::Cancellation cancel;
  cancel.cancel();
  v3::RangeRequest range;
  range.set_key("grpc/cancelled");
  auto r = channel.unary("/etcdserverpb.KV/Range", range.SerializeAsString(), {.timeout = 5s, .cancellation = cancel});
  EXPECT_EQ(r.status.code, StatusCode::cancelled) << r.status.to_string();
  EXPECT_FALSE(r.status.from_server);
  // A streaming call its reader stops: cancelled by us after one message.
  int seen = 0;
  const auto stopped = channel.server_streaming(
      "/etcdserverpb.Maintenance/Snapshot", "",
      [&](std::string_view) {
        ++seen;
        return false;
      },
      {.timeout = 10s});
  EXPECT_EQ(seen, 1);
  // A small database fits one message, which may complete the stream
  // before the cancel reaches it: then the call simply ended.
  EXPECT_TRUE(stopped.code == StatusCode::cancelled || stopped.ok()) << stopped.to_string();
}

TEST_F(EtcdGrpc, CallsToAKilledMemberFailAsUnavailableAndRecoverOnceItIsRestarted) {
  rebound::Client client(cluster->client_options());
  ASSERT_TRUE(range_count(client, cluster->client_url(2), "grpc/restart", 5s));
  cluster->kill(2);
  rebound::grpc::Status status;
  v3::RangeRequest range;
  range.set_key("grpc/restart");
  EXPECT_FALSE(etcd_call<v3::RangeResponse>(client, cluster->client_url(2), "/etcdserverpb.KV/Range", range, 2s,
                                            &status));
  // Refused dials are retried (never sent) until the deadline.
  EXPECT_TRUE(status.code == StatusCode::unavailable || status.code == StatusCode::deadline_exceeded)
      << status.to_string();
  EXPECT_FALSE(status.from_server);
  EXPECT_TRUE(status.transport);
  cluster->restart(2);
  // The same Client: its dead connection left the pool, a new one is dialed.
  auto back = etcd_call<v3::RangeResponse>(client, cluster->client_url(2), "/etcdserverpb.KV/Range", range, 5s, &status);
  EXPECT_TRUE(back) << status.to_string();
}

TEST(EtcdGrpcTls, ClientCertificatesAreRequiredAndAcceptedOverHttps) {
  if (!EtcdCluster::available()) REBOUND_SKIP_FOR_PEER("etcd is not installed (scripts/setup.sh installs etcd-server)");
  TestPki pki;
  const auto server = pki.issue_server("etcd", {"127.0.0.1", "localhost"});
  const auto client_cert = pki.issue_client("client", "rebound-elector");
  EtcdCluster cluster(3, EtcdCluster::Tls{pki.ca_file(), server.cert, server.key, client_cert.cert, client_cert.key});
  rebound::Client client(cluster.client_options());
  EXPECT_TRUE(range_count(client, cluster.client_url(1), "tls/probe", 5s));

  rebound::Options no_cert = cluster.client_options();
  no_cert.tls.cert_file.clear();
  no_cert.tls.key_file.clear();
  rebound::Client anonymous(no_cert);
  rebound::grpc::Status status;
  v3::RangeRequest range;
  range.set_key("tls/probe");
  EXPECT_FALSE(etcd_call<v3::RangeResponse>(anonymous, cluster.client_url(1), "/etcdserverpb.KV/Range", range, 5s,
                                            &status));
  EXPECT_FALSE(status.from_server) << status.to_string();
}
