// gRPC calls recover from what happens to real etcd members as HTTP
// requests do: a bidirectional stream on a member that is killed ends
// UNAVAILABLE (it was answered: never resent) and a new one works once the
// member is back; on a connection gone silent (a FaultProxy blackhole), the
// health check ends the Watch and a Put sent into the silence, and that Put
// is applied at most once - counted at the server by the key's version.
// (GOAWAY and refused streams: tests/grpc, on the embedded server.)
#include "etcd_calls.hpp"
#include "etcd_cluster.hpp"
#include "etcd_inbox.hpp"
#include "etcd_suite.hpp"

#include <rebound/grpc/channel.hpp>
#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <charconv>

using namespace rebound::testing;
using namespace std::chrono_literals;
namespace v3 = rebound_etcd::v3;
using rebound::grpc::StatusCode;

namespace {

class EtcdGrpcRecovery : public EtcdSuite {};

std::uint16_t port_of(const std::string& url) {
  std::uint16_t port = 0;
  const auto colon = url.rfind(':');
  std::from_chars(url.data() + colon + 1, url.data() + url.size(), port);
  return port;
}

}  // namespace

TEST_F(EtcdGrpcRecovery, AStreamOnAKilledMemberEndsUnavailableAndANewStreamWorksOnceItIsBack) {
  rebound::Client client(cluster->client_options());
  const auto lease = grant_lease(client, cluster->client_url(0));
  ASSERT_NE(lease, 0);
  rebound::grpc::Channel channel(client, cluster->client_url(2));
  Inbox<v3::LeaseKeepAliveResponse> answers;
  auto call = channel.bidi_streaming("/etcdserverpb.Lease/LeaseKeepAlive", answers.sink(), {.timeout = 20s});
  ASSERT_TRUE(call.write(keepalive(lease)));
  ASSERT_TRUE(answers.wait_for(1));
  cluster->kill(2);
  // Its answer had started: the stream is over, never resent elsewhere.
  const auto status = call.wait_for(5s);
  ASSERT_TRUE(status) << "the stream must end with its connection";
  EXPECT_EQ(status->code, StatusCode::unavailable) << status->to_string();
  EXPECT_FALSE(status->from_server);
  EXPECT_FALSE(call.write(keepalive(lease)));
  cluster->restart(2);
  Inbox<v3::LeaseKeepAliveResponse> again;
  auto next = channel.bidi_streaming("/etcdserverpb.Lease/LeaseKeepAlive", again.sink(), {.timeout = 20s});
  ASSERT_TRUE(next.write(keepalive(lease)));
  ASSERT_TRUE(again.wait_for(1, 10s));
  EXPECT_EQ(again.all()[0].id(), lease);
  next.finish();
  EXPECT_TRUE(next.wait().ok());
}

TEST_F(EtcdGrpcRecovery, OnASilentConnectionTheHealthCheckEndsTheCallsAndAPutSentIntoTheSilenceIsAppliedAtMostOnce) {
  rebound::proxy::FaultProxy proxy({.target_port = port_of(cluster->client_url(0))});
  proxy.start();
  const std::string via_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto options = cluster->client_options();
  // Found within about 2 s (a test's timing; etcd's own client options keep
  // PINGs 5 s apart, and no PING reaches etcd through the blackhole).
  options.read_idle_timeout = 1s;
  options.ping_timeout = 1s;
  rebound::Client client(options);
  rebound::grpc::Channel channel(client, via_proxy);
  Inbox<v3::WatchResponse> watch_got;
  auto watch = channel.bidi_streaming("/etcdserverpb.Watch/Watch", watch_got.sink(), {.timeout = 20s});
  v3::WatchRequest create;
  create.mutable_create_request()->set_key("recovery/silent");
  ASSERT_TRUE(watch.write(create.SerializeAsString()));
  ASSERT_TRUE(watch_got.wait_for(1));

  proxy.set_mode(rebound::proxy::Mode::blackhole);
  const auto t0 = std::chrono::steady_clock::now();
  v3::PutRequest put;
  put.set_key("recovery/silent");
  put.set_value("sent into the silence");
  rebound::grpc::Status put_status;
  EXPECT_FALSE(etcd_call<v3::PutResponse>(client, via_proxy, "/etcdserverpb.KV/Put", put, 15s, &put_status));
  // Sent and unanswered: etcd may have applied it, so it is not resent.
  EXPECT_EQ(put_status.code, StatusCode::unavailable) << put_status.to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s) << "found by the health check, not the deadline";
  const auto watch_status = watch.wait_for(5s);
  ASSERT_TRUE(watch_status) << "the watch ends with its connection";
  EXPECT_EQ(watch_status->code, StatusCode::unavailable) << watch_status->to_string();

  proxy.set_mode(rebound::proxy::Mode::pass);
  v3::RangeRequest range;
  range.set_key("recovery/silent");
  auto read = etcd_call<v3::RangeResponse>(client, via_proxy, "/etcdserverpb.KV/Range", range, 10s);
  ASSERT_TRUE(read) << "a new connection through the healed path";
  // The proxy may still deliver the held Put once the path heals: applied
  // at most once, never twice.
  std::this_thread::sleep_for(300ms);
  auto direct = etcd_call<v3::RangeResponse>(client, cluster->client_url(1), "/etcdserverpb.KV/Range", range, 5s);
  ASSERT_TRUE(direct);
  if (direct->kvs_size() > 0) EXPECT_EQ(direct->kvs(0).version(), 1);
}
