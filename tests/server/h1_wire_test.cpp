// HTTP/1.1 on the wire, with a raw socket so the exact bytes are ours:
// keep-alive, pipelining, chunked and Expect: 100-continue request bodies,
// HEAD, the idle timeout, and delays that must not block the I/O thread.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "test_support.hpp"

namespace rebound::server::test {
namespace {

namespace http = boost::beast::http;
using Response = RawConnection::Response;

class H1WireTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.start(); }
  Server server_;
};

TEST_F(H1WireTest, KeepAliveServesManyRequestsOnOneConnection) {
  RawConnection c(server_.port());
  ASSERT_FALSE(c.connect_error());
  for (int i = 0; i < 5; ++i) {
    Response r;
    ASSERT_FALSE(c.request("GET", "/bytes/" + std::to_string(10 * i), r));
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), pattern(10 * i));
    EXPECT_TRUE(r.keep_alive());
  }
  EXPECT_EQ(server_.stats().connections_accepted, 1u);
  EXPECT_EQ(server_.stats().requests, 5u);
}

TEST_F(H1WireTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection c(server_.port());
  ASSERT_FALSE(c.write("GET /delay/100 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /status/202 HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n"));
  Response a, b, d;
  ASSERT_FALSE(c.read(a));
  ASSERT_FALSE(c.read(b));
  ASSERT_FALSE(c.read(d));
  EXPECT_EQ(a.body(), "delayed 100 ms\n");
  EXPECT_EQ(b.result_int(), 202);
  EXPECT_EQ(d.body(), "abc");
}

TEST_F(H1WireTest, ChunkedRequestBodyIsReassembled) {
  RawConnection c(server_.port());
  ASSERT_FALSE(c.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  Response r;
  ASSERT_FALSE(c.read(r));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.body().starts_with("POST /echo HTTP/1.1\n")) << r.body();
  EXPECT_NE(r.body().find("transfer-encoding: chunked\n"), std::string::npos);
  EXPECT_TRUE(r.body().ends_with("\n\nhello world")) << r.body();
}

TEST_F(H1WireTest, ExpectContinueGetsInterimResponseBeforeBody) {
  RawConnection c(server_.port());
  ASSERT_FALSE(c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  Response interim;
  ASSERT_FALSE(c.read(interim));
  EXPECT_EQ(interim.result_int(), 100);
  ASSERT_FALSE(c.write("data"));
  Response r;
  ASSERT_FALSE(c.read(r));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.body().ends_with("\n\ndata"));
}

TEST_F(H1WireTest, HeadHasContentLengthButNoBody) {
  RawConnection c(server_.port());
  Response r;
  ASSERT_FALSE(c.request("HEAD", "/bytes/1234", r));
  EXPECT_EQ(r[http::field::content_length], "1234");
  EXPECT_EQ(r.body(), "");
  // The connection is still in sync: the next response parses.
  ASSERT_FALSE(c.request("GET", "/bytes/2", r));
  EXPECT_EQ(r.body(), "ab");
}

TEST_F(H1WireTest, ConnectionCloseRequestEndsTheConnectionAfterTheResponse) {
  RawConnection c(server_.port());
  Response r;
  ASSERT_FALSE(c.request("GET", "/", r, "", "Connection: close\r\n"));
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(c.read_until_closed(), boost::asio::error::eof);
}

TEST_F(H1WireTest, DelayDoesNotBlockOtherConnections) {
  // One I/O thread: a blocking delay would hold up the second connection.
  RawConnection slow(server_.port());
  ASSERT_FALSE(slow.write("GET /delay/2000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&] { return server_.stats().requests == 1; }));
  const auto begin = std::chrono::steady_clock::now();
  RawConnection fast(server_.port());
  Response r;
  ASSERT_FALSE(fast.request("GET", "/", r));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(1));
  ASSERT_FALSE(slow.read(r));
  EXPECT_EQ(r.body(), "delayed 2000 ms\n");
}

TEST(H1IdleTimeout, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options;
  options.h1_idle_timeout = std::chrono::milliseconds(200);
  Server server(options);
  server.start();
  RawConnection c(server.port());
  Response r;
  ASSERT_FALSE(c.request("GET", "/", r));
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(c.read_until_closed(), boost::asio::error::eof);
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST(H1Threads, SeveralIoThreadsServeConcurrentConnections) {
  ServerOptions options;
  options.threads = 2;
  Server server(options);
  server.start();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      RawConnection c(server.port());
      for (int i = 0; i < 20; ++i) {
        Response r;
        if (!c.request("POST", "/echo", r, "x") && r.body().ends_with("\n\nx")) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 80);
  EXPECT_EQ(server.stats().requests, 80u);
  EXPECT_EQ(server.stats().connections_accepted, 4u);
}

}  // namespace
}  // namespace rebound::server::test
