// Bidirectional gRPC streams (rebound::grpc::BidiCall, on a BodyWriter)
// against real etcd members: one LeaseKeepAlive stream answering message
// after message, and a Watch that sees puts made while it is open.
// (Recovery: etcd_grpc_recovery_test.cpp.)
#include "etcd_calls.hpp"
#include "etcd_inbox.hpp"
#include "etcd_cluster.hpp"
#include "etcd_suite.hpp"

#include <rebound/grpc/channel.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace rebound::testing;
using namespace std::chrono_literals;
namespace v3 = rebound_etcd::v3;
using rebound::grpc::StatusCode;

namespace {

class EtcdBidi : public EtcdSuite {};

}  // namespace

TEST_F(EtcdBidi, OneLeaseKeepAliveStreamAnswersEachMessageInTurnAndEndsOkAfterTheHalfClose) {
  rebound::Client client(cluster->client_options());
  const auto lease = grant_lease(client, cluster->client_url(0));
  ASSERT_NE(lease, 0);
  rebound::grpc::Channel channel(client, cluster->client_url(1));
  Inbox<v3::LeaseKeepAliveResponse> answers;
  auto call = channel.bidi_streaming("/etcdserverpb.Lease/LeaseKeepAlive", answers.sink(), {.timeout = 20s});
  for (std::size_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(call.write(keepalive(lease)));
    // Answered while the stream stays open: the next message is written
    // only after this answer arrived.
    ASSERT_TRUE(answers.wait_for(i)) << "keepalive " << i << " unanswered";
    EXPECT_FALSE(call.done());
  }
  for (const auto& a : answers.all()) {
    EXPECT_EQ(a.id(), lease);
    EXPECT_GT(a.ttl(), 0);
  }
  call.finish();
  const auto status = call.wait();
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_TRUE(status.from_server);
}

TEST_F(EtcdBidi, AWatchSeesPutsMadeWhileItsStreamIsOpenAndEndsCancelledWhenCancelled) {
  rebound::Client client(cluster->client_options());
  rebound::grpc::Channel channel(client, cluster->client_url(0));
  Inbox<v3::WatchResponse> watch;
  auto call = channel.bidi_streaming("/etcdserverpb.Watch/Watch", watch.sink(), {.timeout = 20s});
  v3::WatchRequest create;
  create.mutable_create_request()->set_key("bidi/watched");
  ASSERT_TRUE(call.write(create.SerializeAsString()));
  ASSERT_TRUE(watch.wait_for(1));
  EXPECT_TRUE(watch.all()[0].created());
  for (int i = 1; i <= 3; ++i) {
    v3::PutRequest put;
    put.set_key("bidi/watched");
    put.set_value("v" + std::to_string(i));
    ASSERT_TRUE(etcd_call<v3::PutResponse>(client, cluster->client_url(2), "/etcdserverpb.KV/Put", put, 5s));
  }
  // Events may come one response each or several in one.
  std::vector<std::string> values;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (values.size() < 3 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
    values.clear();
    for (const auto& response : watch.all())
      for (const auto& event : response.events()) values.push_back(event.kv().value());
  }
  EXPECT_EQ(values, (std::vector<std::string>{"v1", "v2", "v3"}));
  call.cancel();
  const auto status = call.wait();
  EXPECT_EQ(status.code, StatusCode::cancelled) << status.to_string();
  EXPECT_FALSE(status.from_server);
}
