// start / stop / kill / restart: the port comes back after restart (even
// with the previous connections' TIME_WAIT around), stop() is graceful
// (in-flight requests finish, idle connections close, HTTP/2 gets GOAWAY)
// and bounded by its grace period. Every test ends on the file-descriptor
// baseline (FdBaselineTest).
#include "support/peer_skip.hpp"
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "test_support.hpp"

namespace rebound::server::test {
namespace {

using Response = RawConnection::Response;
namespace asio = boost::asio;
namespace http = boost::beast::http;

class Restart : public FdBaselineTest {};
class Start : public FdBaselineTest {};
class Stop : public FdBaselineTest {};
class Destructor : public FdBaselineTest {};

TEST_F(Restart, AfterKillServesOnTheSamePort) {
  Server server;
  server.start();
  const std::uint16_t port = server.port();
  {
    RawConnection c(port);
    Response r;
    ASSERT_FALSE(c.request("GET", "/", r));
    server.kill();
  }
  server.restart();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.port(), port);
  RawConnection c(port);
  Response r;
  ASSERT_FALSE(c.request("GET", "/", r));
  EXPECT_EQ(r.result_int(), 200);
}

TEST_F(Restart, AfterStopServesOnTheSamePortDespiteTimeWait) {
  Server server;
  server.start();
  const std::uint16_t port = server.port();
  RawConnection c(port);
  Response r;
  ASSERT_FALSE(c.request("GET", "/", r));
  server.stop();  // the server closes first: its side of the connection is in TIME_WAIT
  EXPECT_TRUE(c.read_until_closed() == asio::error::eof);
  server.restart();
  EXPECT_EQ(server.port(), port);
  RawConnection again(port);
  ASSERT_FALSE(again.request("GET", "/", r));
  EXPECT_EQ(r.result_int(), 200);
}

TEST_F(Restart, WhileRunningAndRepeatedly) {
  Server server;
  server.start();
  const std::uint16_t port = server.port();
  for (int i = 0; i < 5; ++i) {
    server.restart();
    RawConnection c(port);
    Response r;
    ASSERT_FALSE(c.request("GET", "/bytes/5", r)) << "round " << i;
    EXPECT_EQ(r.body(), "abcde");
  }
}

TEST_F(Restart, TlsKeepsItsCertificate) {
  if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
  ServerOptions options;
  options.tls = true;
  Server server(options);
  server.start();
  const std::string pem = server.certificate_pem();
  server.kill();
  server.restart();
  EXPECT_EQ(server.certificate_pem(), pem);
  const CurlResult r = curl(server, Transport::h2_tls, "/");
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.status, 200);
}

TEST_F(Start, BusyPortThrows) {
  Server first;
  first.start();
  ServerOptions options;
  options.port = first.port();
  Server second(options);
  EXPECT_THROW(second.start(), std::runtime_error);
  EXPECT_FALSE(second.running());
}

TEST_F(Start, StartTwiceAndStopWhenStoppedAreHarmless) {
  Server server;
  server.stop();
  server.kill();
  server.start();
  const std::uint16_t port = server.port();
  server.start();
  EXPECT_EQ(server.port(), port);
  server.stop();
  server.stop();
  EXPECT_FALSE(server.running());
}

TEST_F(Stop, InflightHttp1RequestFinishesThenConnectionCloses) {
  Server server;
  server.start();
  RawConnection busy(server.port());
  RawConnection idle(server.port());
  Response r;
  ASSERT_FALSE(idle.request("GET", "/", r));
  ASSERT_FALSE(busy.write("GET /delay/500 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&] { return server.stats().requests == 2; }));

  const auto begin = std::chrono::steady_clock::now();
  auto stopping = std::async(std::launch::async, [&] { server.stop(std::chrono::seconds(60)); });
  EXPECT_EQ(idle.read_until_closed(), asio::error::eof);  // idle: closed at once
  ASSERT_FALSE(busy.read(r));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "delayed 500 ms\n");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(busy.read_until_closed(), asio::error::eof);
  stopping.get();
  // Done when the last request was: nowhere near the 60 s grace.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(30));
  RawConnection refused(server.port());
  EXPECT_EQ(refused.connect_error(), asio::error::connection_refused);
}

TEST_F(Stop, Http2GetsGoawayAndInflightStreamFinishes) {
  if (!have_tool("nghttp")) REBOUND_SKIP_FOR_PEER("nghttp is not installed");
  Server server;
  server.start();
  auto run = std::async(std::launch::async, [&] { return nghttp(server, "/delay/500"); });
  ASSERT_TRUE(wait_until([&] { return server.stats().requests == 1; }));
  server.stop();
  const CommandResult r = run.get();
  EXPECT_NE(r.output.find("(last_stream_id=1, error_code=NO_ERROR(0x00)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":status: 200"), std::string::npos) << r.output;
}

TEST_F(Stop, GraceBoundsTheWaitForSlowRequests) {
  Server server;
  server.start();
  RawConnection c(server.port());
  ASSERT_FALSE(c.write("GET /delay/60000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&] { return server.stats().requests == 1; }));
  const auto begin = std::chrono::steady_clock::now();
  server.stop(std::chrono::milliseconds(300));
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(30)) << "stop() waited for the minute-long request";
  std::string received;
  EXPECT_EQ(c.read_until_closed(&received), asio::error::connection_reset);
  EXPECT_EQ(received, "");
}

TEST_F(Destructor, KillsARunningServer) {
  std::uint16_t port = 0;
  auto c = std::unique_ptr<RawConnection>();
  {
    Server server;
    server.start();
    port = server.port();
    c = std::make_unique<RawConnection>(port);
    ASSERT_FALSE(c->write("GET /delay/60000 HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(wait_until([&] { return server.stats().requests == 1; }));
  }
  EXPECT_EQ(c->read_until_closed(), asio::error::connection_reset);
}

}  // namespace
}  // namespace rebound::server::test
