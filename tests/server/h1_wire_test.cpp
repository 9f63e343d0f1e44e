// HTTP/1.1 on the wire, with a raw socket so the exact bytes are ours:
// keep-alive, pipelining, chunked and Expect: 100-continue request bodies,
// HEAD, the idle timeout, and delays that must not block the I/O thread.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <set>
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
  // One I/O thread: a delay that blocked it would hold up the second
  // connection for a minute, far past the 10 s its request may take.
  RawConnection slow(server_.port());
  ASSERT_FALSE(slow.write("GET /delay/60000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&] { return server_.stats().requests == 1; }));
  RawConnection fast(server_.port());
  Response r;
  ASSERT_FALSE(fast.request("GET", "/", r));
  EXPECT_EQ(r.result_int(), 200);
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

// Connections are spread over the I/O threads: with two, a handler that
// holds its thread up does not hold up a connection on the other one. With
// one thread the second request would wait for the first (and time out).
TEST(H1Threads, ASecondIoThreadServesWhileTheFirstIsHeldUpInAHandler) {
  ServerOptions options;
  options.threads = 2;
  Server server(options);
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  std::mutex m;
  std::set<std::thread::id> handler_threads;
  server.route("/hold", [released](const ServerRequest&) {
    released.wait_for(std::chrono::seconds(60));  // blocks this I/O thread on purpose
    return ServerResponse{200, {}, "held"};
  });
  server.route("/where", [&](const ServerRequest&) {
    std::lock_guard lock(m);
    handler_threads.insert(std::this_thread::get_id());
    return ServerResponse{200, {}, "here"};
  });
  server.start();
  // Both connections are accepted and served before either thread is held
  // (the listener runs on one of the threads).
  RawConnection held(server.port());
  RawConnection free(server.port());
  Response r;
  ASSERT_FALSE(held.request("GET", "/where", r));
  ASSERT_FALSE(free.request("GET", "/where", r));
  EXPECT_EQ(handler_threads.size(), 2u) << "the two connections share a thread";

  ASSERT_FALSE(held.write("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&] { return server.stats().requests == 3; }));
  const auto served = free.request("POST", "/echo", r, "x");
  release.set_value();
  ASSERT_FALSE(served) << served.message() << ": held up behind the other connection's handler";
  EXPECT_TRUE(r.body().ends_with("\n\nx"));
  ASSERT_FALSE(held.read(r));
  EXPECT_EQ(r.body(), "held");
  EXPECT_EQ(server.stats().connections_accepted, 2u);
}

}  // namespace
}  // namespace rebound::server::test
