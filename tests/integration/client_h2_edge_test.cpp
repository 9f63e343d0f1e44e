// HTTP/2 corners a well-behaved server never reaches: a server answering a
// stream the client already abandoned, stream ids running out on a long-lived
// connection, and a content-length claim far beyond what arrives.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"
#include "support/h2_frames.hpp"
#include "support/raw_server.hpp"

#include "h2/h2_session.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace f = rebound::testing::h2frames;

namespace {

Options h2c() {
  Options o;
  o.http_version = HttpVersion::http2_prior_knowledge;
  return o;
}

// A server's first flight: SETTINGS with windows too large to ever block the
// client on flow control (so only the socket can), and the connection window.
std::string roomy_preface() {
  return f::settings({{f::setting::INITIAL_WINDOW_SIZE, 0x7fffffff}}) + f::window_update(0, 0x7fffffff - 65535);
}

}  // namespace

TEST(ClientH2Edge, AResponseHeaderBlockThatEndsAfterItsStreamWasAbandonedIsIgnored) {
  // Stream 1 is a GET whose response header block starts (HEADERS with
  // :status, no END_HEADERS) and then stalls past the GET's deadline;
  // stream 3 is a large upload the server never reads, so the client's
  // write stays pending and the RST_STREAM for stream 1 cannot leave. Then
  // the block ends (CONTINUATION with content-length): nghttp2 must still
  // decode it, and the client must ignore it - it once dereferenced the
  // abandoned stream's request right there.
  std::atomic<bool> get_arrived{false};
  RawServer server([&](RawConnection& conn, int) {
    conn.write(roomy_preface());
    f::FrameReader frames(conn);
    frames.read_preface();
    frames.next_of_type(f::HEADERS);  // stream 1
    get_arrived = true;
    frames.next_of_type(f::HEADERS);  // stream 3; from here on nothing is read
    conn.write(f::frame(f::HEADERS, 0, 1, f::hpack({{":status", "200"}})));
    std::this_thread::sleep_for(600ms);  // the GET's deadline (300 ms) passes
    // A continuation fragment carries no table-size update (hpack() starts with one).
    conn.write(f::frame(f::CONTINUATION, f::flag::END_HEADERS, 1, f::hpack({{"content-length", "100"}}).substr(1)) +
               f::data(1, std::string(100, 'x'), true));
    std::this_thread::sleep_for(1500ms);  // the upload's deadline passes too
  });
  CheckedClient c(h2c());
  Completions done(2);
  c.send_async(Request::get(server.url("/slow")).timeout(300ms), done.callback(0));
  ASSERT_TRUE(eventually([&] { return get_arrived.load(); }));  // stream 1 before stream 3
  c.send_async(Request::post(server.url("/upload"), std::string(48u << 20, 'u')).timeout(1500ms), done.callback(1));
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_FALSE(done.result(0));
  EXPECT_EQ(done.result(0).error().code(), errc::deadline_exceeded) << done.result(0).error().message();
  // nghttp2 decodes a header block fragment by fragment: when the client
  // read the first fragment (its :status) before the deadline, the response
  // had started; when the busy writer kept it from reading in time (seen
  // under ThreadSanitizer), the request was sent and no more. Both are true.
  const auto reached = done.result(0).error().reached();
  EXPECT_TRUE(reached == progress::response_started || reached == progress::sent) << done.result(0).error().message();
  ASSERT_FALSE(done.result(1));
  EXPECT_EQ(done.result(1).error().code(), errc::deadline_exceeded) << done.result(1).error().message();
  EXPECT_EQ(done.duplicates(), 0u);
  EXPECT_EQ(c.counters().completions_dropped, 0u);
  EXPECT_TRUE(server.errors().empty()) << server.errors().front();
}

TEST(ClientH2Edge, RequestsKeepSucceedingWhenAConnectionRunsOutOfStreamIds) {
  auto s = start_server();
  // 100 stream ids left on each new connection instead of 2^30.
  h2::testing::set_first_stream_id(h2::max_stream_id - 2 * 99);
  struct Restore {
    ~Restore() { h2::testing::set_first_stream_id(1); }
  } restore;
  CheckedClient c(h2c());
  constexpr std::size_t batch = 50, batches = 20;  // 1000 requests: 10 connections' worth of ids
  for (std::size_t b = 0; b < batches; ++b) {
    Completions done(batch);
    for (std::size_t i = 0; i < batch; ++i) c.send_async(Request::get(s->url() + "/"), done.callback(i));
    ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
    for (std::size_t i = 0; i < batch; ++i)
      ASSERT_TRUE(done.result(i)) << "batch " << b << ": " << done.result(i).error().message();
  }
  const auto n = c.counters();
  EXPECT_EQ(n.requests_failed, 0u);
  EXPECT_GE(n.dials, 10u) << "a connection out of stream ids must be replaced";
  EXPECT_LE(n.dials, 12u);
  EXPECT_EQ(n.retries, 0u) << "the connection drained before a request could fail on it";
}

TEST(ClientH2Edge, AContentLengthClaimReservesNothingLikeItsSize) {
  // 512 GiB claimed, 10 bytes sent, then the stream is reset: a truncated
  // response, not an allocation of the claim.
  RawServer server([](RawConnection& conn, int) {
    conn.write(f::settings());
    f::FrameReader frames(conn);
    frames.read_preface();
    frames.next_of_type(f::HEADERS);
    conn.write(f::headers(1, {{":status", "200"}, {"content-length", "549755813888"}}, false) +
               f::data(1, "0123456789", false) + f::rst_stream(1, 2 /* INTERNAL_ERROR */));
    conn.read_some(2s);
  });
  Options o = h2c();
  o.max_response_body = 1ull << 40;
  CheckedClient c(o);
  auto r = c.get(server.url("/huge"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::truncated_response) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::response_started);
}

TEST(ClientH2Edge, AbandonedStreamsProbeWithAtMostOnePingUntilTheServerSendsHeadersOrData) {
  // gRPC servers answer more than a couple of PINGs without HEADERS or DATA
  // in between with GOAWAY ENHANCE_YOUR_CALM: two streams given up in a row
  // on a server that answers nothing but PINGs send one probe, not two.
  std::atomic<int> pings{0};
  RawServer server([&](RawConnection& conn, int) {
    conn.write(roomy_preface() + f::settings_ack());
    f::FrameReader frames(conn);
    frames.read_preface();
    try {
      for (;;) {
        const f::Frame fr = frames.next(10s);
        if (fr.type == f::PING && !(fr.flags & f::flag::ACK)) {
          ++pings;
          conn.write(f::frame(f::PING, f::flag::ACK, 0, fr.payload));
        }
      }
    } catch (const std::exception&) {
    }
  });
  Options o = h2c();
  std::atomic<int> acked{0};
  o.on_event = [&](const Event& e) {
    if (e.kind == EventKind::ping_acked) ++acked;
  };
  CheckedClient c(o);
  for (int i = 0; i < 2; ++i) {
    auto r = c.send(Request::get(server.url("/")).timeout(300ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::deadline_exceeded) << r.error().message();
    // The probe's answer makes the connection usable again for the next one.
    if (i == 0) {
      ASSERT_TRUE(eventually([&] { return acked.load() == 1; }));
    }
  }
  EXPECT_TRUE(eventually([&] { return pings.load() >= 1; }));
  std::this_thread::sleep_for(200ms);  // a second PING, were it sent, would have arrived by now
  EXPECT_EQ(pings.load(), 1);
  EXPECT_EQ(server.connections_accepted(), 1) << "the connection proved alive and was used again";
}

TEST(ClientH2Edge, WithoutPingsOnStreamlessConnectionsAnIdlePooledConnectionIsNotPingedButAnOpenStreamIs) {
  // etcd counts every PING on a connection without a stream as a strike
  // (three end it with GOAWAY too_many_pings), however far apart.
  std::atomic<int> pings{0};
  std::atomic<bool> stream_open{false};
  RawServer server([&](RawConnection& conn, int) {
    conn.write(roomy_preface() + f::settings_ack());
    f::FrameReader frames(conn);
    frames.read_preface();
    try {
      for (;;) {
        const f::Frame fr = frames.next(10s);
        if (fr.type == f::PING && !(fr.flags & f::flag::ACK)) {
          ++pings;
          conn.write(f::frame(f::PING, f::flag::ACK, 0, fr.payload));
        }
        // The first request is answered at once; the second never is.
        if (fr.type == f::HEADERS && fr.stream_id == 1) conn.write(f::headers(1, {{":status", "204"}}, true));
        if (fr.type == f::HEADERS && fr.stream_id == 3) stream_open = true;
      }
    } catch (const std::exception&) {
    }
  });
  Options o = h2c();
  o.read_idle_timeout = 200ms;
  o.ping_timeout = 2s;
  o.ping_without_streams = false;
  CheckedClient c(o);
  auto r = c.send(Request::get(server.url("/")));
  ASSERT_TRUE(r) << r.error().message();
  std::this_thread::sleep_for(1s);  // five idle PING intervals with no stream
  EXPECT_EQ(pings.load(), 0);
  Completions done(1);
  c.send_async(Request::get(server.url("/hangs")).timeout(1500ms), done.callback(0));
  EXPECT_TRUE(eventually([&] { return pings.load() >= 1; }, 2s)) << "a stream is open: the silence is asked about";
  EXPECT_TRUE(stream_open.load());
  ASSERT_TRUE(done.wait(10s));
  EXPECT_EQ(server.connections_accepted(), 1);
}
