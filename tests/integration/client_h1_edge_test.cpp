// HTTP/1.1 corners: a server that answers before it has read the request
// body (a 401 or 413 with keep-alive, as Go and nginx do), and a
// content-length claim far beyond what arrives.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>

#include <atomic>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

TEST(ClientH1Edge, AnAnswerBeforeTheBodyWasSentRetiresTheConnectionAndTheNextRequestsSucceed) {
  std::atomic<int> answered_early{0};
  RawServer server([&](RawConnection& conn, int index) {
    for (;;) {
      std::string head;
      try {
        head = conn.read_until("\r\n\r\n", 5s);
      } catch (const std::exception&) {
        return;  // the client closed the connection
      }
      if (head.rfind("POST", 0) == 0) {
        // 401 at once, keep-alive; then read and drop the body, as a server
        // keeping the connection must, and serve what follows it.
        // Counted before the answer leaves: the client may finish the test
        // before this thread runs again.
        ++answered_early;
        conn.write("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        const auto at = head.find("content-length: ") != std::string::npos ? head.find("content-length: ")
                                                                            : head.find("Content-Length: ");
        try {
          conn.read_exactly(std::stoull(head.substr(at + 16)), 5s);
        } catch (const std::exception&) {
          return;  // the client gave up on the body and closed
        }
        continue;
      }
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  CheckedClient c;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    auto post = c.send(Request::post(server.url("/upload"), std::string(8u << 20, 'b')).timeout(5s));
    ASSERT_TRUE(post) << post.error().message();
    EXPECT_EQ(post->status(), 401);
    for (int i = 0; i < 3; ++i) {
      auto get = c.send(Request::get(server.url("/")).timeout(3s));
      ASSERT_TRUE(get) << "GET " << i << " after the early answer: " << get.error().message();
      EXPECT_EQ(get->body(), "ok");
    }
  }
  EXPECT_EQ(answered_early.load(), 3);
  EXPECT_EQ(c.counters().completions_dropped, 0u);
}

TEST(ClientH1Edge, AContentLengthClaimReservesNothingLikeItsSize) {
  RawServer server([](RawConnection& conn, int) {
    conn.read_until("\r\n\r\n");
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 549755813888\r\n\r\n0123456789");
    conn.close();
  });
  Options o;
  o.max_response_body = 1ull << 40;
  CheckedClient c(o);
  auto r = c.get(server.url("/huge"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::truncated_response) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::response_started);
}

TEST(ClientH1Edge, AnUploadCutWhileItsBodyIsStillBeingWrittenCountsAsSentAndIsNotSentAgain) {
  // The server reads the head and 64 KiB of an 8 MiB body, then resets:
  // the client is in the middle of its write. Part of the request reached
  // the server, which may have acted on it: a POST must not go again.
  RawServer server([](RawConnection& c, int) {
    c.read_until("\r\n\r\n");
    c.read_exactly(64 * 1024);
    c.reset();
  });
  Options o;
  o.http_version = HttpVersion::http1_only;
  CheckedClient c(o);
  auto r = c.send(Request::post(server.url("/upload"), std::string(8u << 20, 'x')).timeout(5s));
  ASSERT_FALSE(r) << "status " << r->status();
  EXPECT_EQ(r.error().reached(), progress::sent) << r.error().message();
  EXPECT_EQ(r.error().attempts(), 1) << r.error().message();
  std::this_thread::sleep_for(200ms);  // room for a second connection, were one coming
  EXPECT_EQ(server.connections_accepted(), 1) << "a POST whose body was partly written was sent again";
}
