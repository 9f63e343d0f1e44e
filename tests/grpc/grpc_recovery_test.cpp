// gRPC calls recover as HTTP requests do, against the embedded server
// standing in for a gRPC service (a route that answers application/grpc,
// echoing the request's messages, with grpc-status in its headers): a GOAWAY
// that excludes the calls' streams, refused streams, and a server killed
// while a call runs and started again on its port. The server counts what
// its handler ran: a call it may have processed is never sent again, one it
// provably did not process is sent again with every message written so far.
// (Against etcd - a restarted member, a silent connection - in tests/etcd.)
#include "integration/fixtures.hpp"

#include <rebound/grpc/channel.hpp>
#include <rebound/grpc/framing.hpp>

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::grpc::StatusCode;

namespace {

constexpr const char* echo_method = "/test.Echo/Bidi";

// The embedded server with the echo service; every call's handler run is counted.
std::unique_ptr<server::Server> echo_server() {
  auto s = start_server();
  s->route(echo_method, [](const server::ServerRequest& r) {
    server::ServerResponse answer;
    answer.headers = {{"content-type", "application/grpc"}, {"grpc-status", "0"}};
    answer.body = r.body;  // the request's framed messages, back as they came
    return answer;
  });
  return s;
}

std::uint64_t calls_run(const server::Server& s) {
  const auto stats = s.stats();
  const auto it = stats.requests_by_path.find(echo_method);
  return it == stats.requests_by_path.end() ? 0 : it->second;
}

Options h2c() {
  Options o;
  o.http_version = HttpVersion::http2_prior_knowledge;
  return o;
}

// What a call's on_message received.
struct Messages {
  std::mutex m;
  std::vector<std::string> got;
  std::function<bool(std::string_view)> sink() {
    return [this](std::string_view message) {
      std::lock_guard lock(m);
      got.emplace_back(message);
      return true;
    };
  }
  std::vector<std::string> all() {
    std::lock_guard lock(m);
    return got;
  }
};

}  // namespace

TEST(GrpcRecovery, CallsAboveAGoawaysLastStreamAreSentAgainWithEveryMessageWrittenSoFar) {
  auto s = echo_server();
  Client client(h2c());
  grpc::Channel channel(client, s->url());
  Messages a_got, b_got;
  auto a = channel.bidi_streaming(echo_method, a_got.sink(), {.timeout = 10s});
  auto b = channel.bidi_streaming(echo_method, b_got.sink(), {.timeout = 10s});
  ASSERT_TRUE(a.write("a1"));
  ASSERT_TRUE(b.write("b1"));
  // Both streams are open (the server waits for their END_STREAM) when the
  // GOAWAY says the server processed none of them.
  ASSERT_TRUE(eventually([&] { return s->stats().connections_accepted == 1; }, 5s));
  std::this_thread::sleep_for(200ms);
  s->send_goaway(0);
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(a.write("a2"));
  ASSERT_TRUE(b.write("b2"));
  a.finish();
  b.finish();
  const auto a_status = a.wait(), b_status = b.wait();
  EXPECT_TRUE(a_status.ok()) << a_status.to_string();
  EXPECT_TRUE(b_status.ok()) << b_status.to_string();
  EXPECT_EQ(a_got.all(), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(b_got.all(), (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(calls_run(*s), 2u) << "each call ran once";
  EXPECT_EQ(s->stats().connections_accepted, 2u) << "the retries went to a new connection";
}

TEST(GrpcRecovery, ARefusedCallIsSentAgainUntilTheServerTakesIt) {
  auto s = echo_server();
  Client client(h2c());
  grpc::Channel channel(client, s->url());
  ASSERT_TRUE(channel.unary(echo_method, "warm-up", {.timeout = 5s}).status.ok());
  s->refuse_streams(true);
  Messages got;
  auto call = channel.bidi_streaming(echo_method, got.sink(), {.timeout = 10s});
  ASSERT_TRUE(call.write("m1"));
  auto unary = std::async(std::launch::async, [&] { return channel.unary(echo_method, "u1", {.timeout = 10s}); });
  std::this_thread::sleep_for(300ms);  // refused, and refused again after backoff
  EXPECT_FALSE(call.done());
  s->refuse_streams(false);
  ASSERT_TRUE(call.write("m2"));
  call.finish();
  const auto status = call.wait();
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(got.all(), (std::vector<std::string>{"m1", "m2"}));
  const auto u = unary.get();
  EXPECT_TRUE(u.status.ok()) << u.status.to_string();
  EXPECT_EQ(u.message, "u1");
  EXPECT_EQ(calls_run(*s), 3u) << "warm-up, the call and the unary call: each ran once";
}

TEST(GrpcRecovery, ACallOnAKilledServerEndsUnavailableUnsentAgainAndTheNextCallReachesItsRestart) {
  auto s = echo_server();
  Client client(h2c());
  grpc::Channel channel(client, s->url());
  Messages got;
  auto call = channel.bidi_streaming(echo_method, got.sink(), {.timeout = 10s});
  ASSERT_TRUE(call.write("sent before the crash"));
  ASSERT_TRUE(eventually([&] { return s->stats().connections_accepted == 1; }, 5s));
  std::this_thread::sleep_for(100ms);  // the HEADERS and the message are out
  s->kill();
  // Sent, no answer: the server may have processed it, and a POST is not
  // resent (the handler never ran here, but the client cannot know that).
  const auto status = call.wait_for(5s);
  ASSERT_TRUE(status) << "the call must end with its connection";
  EXPECT_EQ(status->code, StatusCode::unavailable) << status->to_string();
  EXPECT_FALSE(status->from_server);
  EXPECT_FALSE(call.write("after")) << "an ended call takes no messages";
  s->restart();  // on the same port
  const auto after = channel.unary(echo_method, "after the restart", {.timeout = 5s});
  EXPECT_TRUE(after.status.ok()) << after.status.to_string();
  EXPECT_EQ(after.message, "after the restart");
  EXPECT_EQ(calls_run(*s), 1u) << "only the call after the restart ran";
}
