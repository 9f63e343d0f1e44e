// Request::body_idle_timeout: a long response that keeps sending lives as
// long as its deadline allows, however much longer than the idle limit it
// runs; one whose server goes quiet mid-body fails with body_idle_timeout
// soon after the limit, long before its deadline, saying the response had
// started - over HTTP/1.1 and HTTP/2 alike.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"
#include "support/h2_frames.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace f = rebound::testing::h2frames;

namespace {

std::string chunk(std::string_view s) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", s.size());
  return std::string(size) + std::string(s) + "\r\n";
}

// HTTP/1.1: a chunked response with `ticks` chunks `every` apart, then the
// last chunk - or, with `stall`, silence instead of the last chunk.
RawServer h1_ticker(int ticks, std::chrono::milliseconds every, bool stall) {
  return RawServer([=](RawConnection& conn, int) {
    conn.read_until("\r\n\r\n");
    conn.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    for (int i = 0; i < ticks; ++i) {
      std::this_thread::sleep_for(every);
      if (!conn.write(chunk("tick\n"))) return;
    }
    if (stall) {
      conn.read_some(10s);  // until the client gives up
      return;
    }
    conn.write("0\r\n\r\n");
  });
}

RawServer h2_ticker(int ticks, std::chrono::milliseconds every, bool stall) {
  return RawServer([=](RawConnection& conn, int) {
    conn.write(f::settings());
    f::FrameReader frames(conn);
    frames.read_preface();
    frames.next_of_type(f::HEADERS);
    conn.write(f::settings_ack() + f::headers(1, {{":status", "200"}}, false));
    for (int i = 0; i < ticks; ++i) {
      std::this_thread::sleep_for(every);
      if (!conn.write(f::data(1, "tick\n", false))) return;
    }
    if (stall) {
      try {
        for (;;) {  // answer PINGs: the connection is alive, only the stream is quiet
          const f::Frame fr = frames.next(10s);
          if (fr.type == f::PING && !(fr.flags & f::flag::ACK))
            conn.write(f::frame(f::PING, f::flag::ACK, 0, fr.payload));
        }
      } catch (const std::exception&) {
      }
      return;
    }
    conn.write(f::data(1, "", true));
  });
}

Options for_protocol(bool h2) {
  Options o;
  if (h2) o.http_version = HttpVersion::http2_prior_knowledge;
  return o;
}

}  // namespace

TEST(BodyIdle, AStreamThatKeepsSendingOutlivesTheIdleLimitManyTimesOver) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    auto server = h2 ? h2_ticker(10, 100ms, false) : h1_ticker(10, 100ms, false);
    CheckedClient c(for_protocol(h2));
    auto r = c.send(Request::get(server.url("/watch")).timeout(20s).body_idle_timeout(400ms));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body().size(), 10 * std::string("tick\n").size());
  }
}

TEST(BodyIdle, AStreamWhoseServerGoesQuietFailsSoonAfterTheLimitNotAtItsDeadline) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    auto server = h2 ? h2_ticker(3, 50ms, true) : h1_ticker(3, 50ms, true);
    CheckedClient c(for_protocol(h2));
    std::atomic<int> lines{0};
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.send(Request::get(server.url("/watch"))
                        .timeout(20s)
                        .body_idle_timeout(500ms)
                        .on_body([&](std::string_view chunk) {
                          for (char ch : chunk) lines += ch == '\n';
                        }));
    const auto took = elapsed_since(t0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::body_idle_timeout) << r.error().message();
    EXPECT_EQ(r.error().reached(), progress::response_started);
    EXPECT_EQ(r.error().attempts(), 1) << "a started response was retried";
    EXPECT_NE(r.error().message().find("500 ms"), std::string::npos) << r.error().message();
    EXPECT_EQ(lines.load(), 3) << "the chunks before the silence were not all delivered";
    EXPECT_GE(took, 500ms + 150ms);  // 3 ticks of 50 ms, then the limit
    EXPECT_LT(took, 5s) << "waited for the deadline instead";
  }
}

TEST(BodyIdle, TheLimitDoesNotApplyBeforeTheResponseHasStarted) {
  // Waiting for the header is the deadline's (or response_header_timeout's)
  // business: a slow first byte is not a quiet stream.
  RawServer server([](RawConnection& conn, int) {
    conn.read_until("\r\n\r\n");
    std::this_thread::sleep_for(700ms);
    conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  CheckedClient c;
  auto r = c.send(Request::get(server.url("/slow")).timeout(10s).body_idle_timeout(300ms));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "ok");
}
