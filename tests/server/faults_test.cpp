// Fault injection as real clients see it: kill() resets established
// connections without GOAWAY; send_goaway() with a chosen last-stream-id;
// refused, reset and dropped requests, each checked against the server's
// own count of handlers run (POSTs by name: they must never run twice). A
// real SIGKILL of a `rebound serve` process pins what kill() stands in for.
// Every test ends on the file-descriptor baseline (FdBaselineTest).
#include "support/peer_skip.hpp"
#include <gtest/gtest.h>

#include <future>

#include "integration/child_server.hpp"
#include "support/tcp_queues.hpp"
#include "test_support.hpp"

namespace rebound::server::test {
namespace {

using Response = RawConnection::Response;
namespace asio = boost::asio;

bool is_reset_or_eof(boost::system::error_code ec) {
  return ec == asio::error::connection_reset || ec == asio::error::eof;
}

std::uint64_t posts(const Server& server) {
  const auto by_method = server.stats().requests_by_method;
  const auto it = by_method.find("POST");
  return it == by_method.end() ? 0 : it->second;
}

class Kill : public FdBaselineTest {};
class RefuseStreams : public FdBaselineTest {};
class DropNextRequests : public FdBaselineTest {};

class NghttpTest : public FdBaselineTest {
 protected:
  void release() override { server_.reset(); }
  void SetUp() override {
    if (!have_tool("nghttp")) REBOUND_SKIP_FOR_PEER("nghttp is not installed");
  }
  void start(bool tls = false) {
    ServerOptions options;
    options.tls = tls;
    server_ = std::make_unique<Server>(options);
    server_->start();
  }
  /// Runs nghttp in the background (the fault is injected meanwhile).
  std::future<CommandResult> nghttp_async(const std::string& path) {
    return std::async(std::launch::async, [this, path] { return nghttp(*server_, path); });
  }
  bool wait_requests(std::uint64_t n) {
    return wait_until([&] { return server_->stats().requests >= n; });
  }
  std::unique_ptr<Server> server_;
};

// --- kill ---------------------------------------------------------------------

TEST_F(Kill, EstablishedConnectionSeesResetAndListenerIsGone) {
  Server server;
  server.start();
  RawConnection c(server.port());
  // Answered in a minute: only the kill can end it within read_until_closed's 10 s.
  ASSERT_FALSE(c.write("POST /delay/60000 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
  ASSERT_TRUE(wait_until([&] { return server.stats().requests == 1; }));
  server.kill();
  EXPECT_FALSE(server.running());
  std::string received;
  EXPECT_EQ(c.read_until_closed(&received), asio::error::connection_reset);
  EXPECT_EQ(received, "");  // no response byte
  EXPECT_EQ(posts(server), 1u);
  RawConnection refused(server.port());
  EXPECT_EQ(refused.connect_error(), asio::error::connection_refused);
}

TEST_F(Kill, IdleConnectionIsResetToo) {
  Server server;
  server.start();
  RawConnection c(server.port());
  Response r;
  ASSERT_FALSE(c.request("GET", "/", r));
  server.kill();
  EXPECT_EQ(c.read_until_closed(), asio::error::connection_reset);
}

TEST_F(NghttpTest, KillGivesHttp2ClientNoGoawayAndNoResponse) {
  start();
  auto run = nghttp_async("/delay/5000");
  ASSERT_TRUE(wait_requests(1));
  server_->kill();
  const CommandResult r = run.get();
  // nghttp exits 0 on a lost connection; it reports the unanswered request.
  EXPECT_NE(r.output.find("total=1, processed=0"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("recv GOAWAY"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(":status"), std::string::npos) << r.output;
  EXPECT_EQ(server_->stats().requests, 1u);
}

// --- a real SIGKILL -------------------------------------------------------------
// Most fault tests stand a crash in with Server::kill(). Here the server is a
// `rebound serve` process and the kernel does the killing, which pins what
// a crash really looks like on the wire, and where kill() differs from it.

class SigkilledServerProcess : public FdBaselineTest {};

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

TEST_F(SigkilledServerProcess, AnInflightRequestEndsWithAFinAndNoResponseByteAndThePortRefuses) {
  rebound::testing::ChildServer child({"--port", "0"});
  const std::uint16_t port = port_of(child.url());
  RawConnection c(port);
  ASSERT_FALSE(c.connect_error());
  ASSERT_FALSE(c.write("POST /delay/60000 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
  // The process has taken the whole request off its socket...
  ASSERT_TRUE(rebound::testing::wait_until_read(port, c.local_port()));
  child.kill();
  // ...so the kernel closes the dead process's socket with a FIN: RST only
  // comes when unread bytes are left. Server::kill() always sends RST
  // (SO_LINGER 0), so a client has to take both as "closed, no response".
  std::string received;
  EXPECT_EQ(c.read_until_closed(&received), asio::error::eof);
  EXPECT_EQ(received, "");
  RawConnection refused(port);
  EXPECT_EQ(refused.connect_error(), asio::error::connection_refused);
}

TEST_F(SigkilledServerProcess, ANewProcessServesOnTheSamePortAtOnce) {
  rebound::testing::ChildServer child({"--port", "0"});
  const std::uint16_t port = port_of(child.url());
  RawConnection before(port);
  Response r;
  ASSERT_FALSE(before.request("GET", "/", r));
  child.restart_same_port();  // SIGKILL; the old connection's socket may linger in TIME_WAIT
  EXPECT_EQ(before.read_until_closed(), asio::error::eof);
  RawConnection after(port);
  ASSERT_FALSE(after.request("GET", "/", r));
  EXPECT_EQ(r.result_int(), 200);
}

// --- send_goaway --------------------------------------------------------------

TEST_F(NghttpTest, GoawayWithHighestStreamLetsInflightStreamFinish) {
  start();
  auto run = nghttp_async("/delay/600");
  ASSERT_TRUE(wait_requests(1));
  server_->send_goaway();
  const CommandResult r = run.get();
  EXPECT_NE(r.output.find("recv GOAWAY frame"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(last_stream_id=1, error_code=NO_ERROR(0x00)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("recv (stream_id=1) :status: 200"), std::string::npos) << r.output;
  // GOAWAY was sent before the response.
  EXPECT_LT(r.output.find("recv GOAWAY"), r.output.find(":status: 200"));
  EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(NghttpTest, GoawayBelowStreamAbandonsItWithTheChosenErrorCode) {
  start();
  auto run = nghttp_async("/delay/600");
  ASSERT_TRUE(wait_requests(1));
  server_->send_goaway(0, 2);
  const CommandResult r = run.get();
  EXPECT_NE(r.output.find("(last_stream_id=0, error_code=INTERNAL_ERROR(0x02)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(":status"), std::string::npos) << r.output;  // stream 1 got no response
  EXPECT_EQ(server_->stats().requests, 1u) << "its handler ran, though: GOAWAY does not undo work";
}

TEST_F(NghttpTest, GoawayOverTls) {
  start(/*tls=*/true);
  auto run = nghttp_async("/delay/600");
  ASSERT_TRUE(wait_requests(1));
  server_->send_goaway(-1, 0);
  const CommandResult r = run.get();
  EXPECT_NE(r.output.find("(last_stream_id=1, error_code=NO_ERROR(0x00)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":status: 200"), std::string::npos) << r.output;
}

TEST_F(NghttpTest, NewConnectionAfterGoawayIsServed) {
  start();
  auto run = nghttp_async("/delay/300");
  ASSERT_TRUE(wait_requests(1));
  server_->send_goaway();
  run.get();
  const CommandResult again = nghttp(*server_, "/");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.output.find(":status: 200"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("recv GOAWAY"), std::string::npos) << again.output;
}

// --- refuse_streams -----------------------------------------------------------

TEST_F(NghttpTest, RefusedHttp2StreamGetsRefusedStreamReset) {
  start();
  server_->refuse_streams(true);
  CommandResult r = nghttp(*server_, "/");
  EXPECT_NE(r.output.find("recv RST_STREAM frame <length=4, flags=0x00, stream_id=1>"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("error_code=REFUSED_STREAM(0x07)"), std::string::npos) << r.output;
  EXPECT_EQ(server_->stats().requests, 0u);

  server_->refuse_streams(false);
  r = nghttp(*server_, "/");
  EXPECT_NE(r.output.find(":status: 200"), std::string::npos) << r.output;
  EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(RefuseStreams, Http1RequestGetsClosedConnectionAndNoHandler) {
  Server server;
  server.start();
  server.refuse_streams(true);
  RawConnection c(server.port());
  ASSERT_FALSE(c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
  std::string received;
  EXPECT_TRUE(is_reset_or_eof(c.read_until_closed(&received)));
  EXPECT_EQ(received, "");
  EXPECT_EQ(server.stats().requests, 0u);

  server.refuse_streams(false);
  RawConnection ok(server.port());
  Response r;
  ASSERT_FALSE(ok.request("POST", "/echo", r, "hi"));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(posts(server), 1u) << "only the POST that was not refused ran";
}

// --- reset_next_streams -------------------------------------------------------

TEST_F(NghttpTest, NextStreamsAreResetAfterTheirHandlerRan) {
  start();
  server_->reset_next_streams(2, 8 /* CANCEL */);
  for (int i = 0; i < 2; ++i) {
    const CommandResult r = nghttp(*server_, "/echo");
    EXPECT_NE(r.output.find("recv RST_STREAM"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("error_code=CANCEL(0x08)"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(":status"), std::string::npos) << r.output;
  }
  EXPECT_EQ(server_->stats().requests, 2u);
  const CommandResult r = nghttp(*server_, "/echo");
  EXPECT_NE(r.output.find(":status: 200"), std::string::npos) << r.output;
  EXPECT_EQ(server_->stats().requests, 3u);
}

// --- drop_next_requests -------------------------------------------------------

TEST_F(DropNextRequests, Http1ConnectionIsResetAfterTheRequestWasCounted) {
  Server server;
  server.start();
  server.drop_next_requests(1);
  RawConnection c(server.port());
  ASSERT_FALSE(c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"));
  std::string received;
  EXPECT_EQ(c.read_until_closed(&received), asio::error::connection_reset);
  EXPECT_EQ(received, "");
  EXPECT_EQ(server.stats().requests, 1u);
  EXPECT_EQ(server.stats().requests_by_method.at("POST"), 1u);

  RawConnection next(server.port());
  Response r;
  ASSERT_FALSE(next.request("POST", "/echo", r, "hi"));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(posts(server), 2u);
}

TEST_F(NghttpTest, DroppedHttp2RequestResetsTheConnection) {
  start();
  server_->drop_next_requests(1);
  CommandResult r = nghttp(*server_, "/echo");
  EXPECT_NE(r.output.find("total=1, processed=0"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(":status"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("recv GOAWAY"), std::string::npos) << r.output;
  EXPECT_EQ(server_->stats().requests, 1u);

  r = nghttp(*server_, "/echo");
  EXPECT_NE(r.output.find(":status: 200"), std::string::npos) << r.output;
  EXPECT_EQ(server_->stats().requests, 2u);
}

}  // namespace
}  // namespace rebound::server::test
