// Request::body_writer: a request body the caller keeps writing to while the
// response streams (<rebound/body_writer.hpp>). Against the embedded server
// (h2c, and HTTP/1.1 for the typed refusal) and scripted HTTP/2 servers
// that put exact frames on the wire: a full-duplex echo, a closed
// flow-control window, a refused stream, a connection reset after the body
// left, an answer before the body ended, a cancel.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"
#include "support/h2_frames.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace f = rebound::testing::h2frames;

namespace {

Options duplex_h2c() {
  Options o;
  o.http_version = HttpVersion::http2_prior_knowledge;
  return o;
}

// What a body sink received, for a test thread to wait on.
struct SinkBytes {
  std::mutex m;
  std::condition_variable cv;
  std::string bytes;
  Request::BodySink sink() {
    return [this](std::string_view chunk) {
      std::lock_guard lock(m);
      bytes.append(chunk);
      cv.notify_all();
    };
  }
  bool wait_for(std::string_view want, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return bytes == want; });
  }
};

// The server's opening for every script: SETTINGS (with `settings`), the
// client's preface and SETTINGS acknowledged.
void open_writer_connection(RawConnection& conn, f::FrameReader& frames,
                     const std::vector<std::pair<std::uint16_t, std::uint32_t>>& settings = {}) {
  conn.write(f::settings(settings));
  frames.read_preface();
  frames.next_of_type(f::SETTINGS);
  conn.write(f::settings_ack());
}

// Reads the request on `stream` to its END_STREAM; its DATA bytes.
std::string read_stream_body(f::FrameReader& frames, std::uint32_t stream) {
  std::string body;
  for (;;) {
    const f::Frame fr = frames.next(10s);
    if (fr.stream_id != stream) continue;
    if (fr.type == f::DATA) body += fr.payload;
    if (fr.flags & f::flag::END_STREAM) return body;
  }
}

}  // namespace

TEST(ClientBodyWriter, BytesWrittenBeforeAndWhileTheRequestRunsArriveInOrderAndFinishEndsTheBody) {
  auto s = start_server();
  CheckedClient c(duplex_h2c());
  BodyWriter body;
  ASSERT_EQ(body.write("before|"), BodyWriter::WriteResult::written);
  Completions done(1);
  c.send_async(Request("POST", s->url() + "/echo").body_writer(body), done.callback(0));
  // The server answers only after END_STREAM: the stream waits for bytes.
  EXPECT_FALSE(done.wait(300ms));
  EXPECT_EQ(body.write("during|"), BodyWriter::WriteResult::written);
  EXPECT_EQ(body.write(""), BodyWriter::WriteResult::written);
  EXPECT_EQ(body.write("end"), BodyWriter::WriteResult::written);
  EXPECT_TRUE(body.finish());
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_TRUE(done.result(0)) << done.result(0).error().message();
  const std::string& echoed = done.result(0)->body();
  EXPECT_EQ(echoed.substr(echoed.find("\n\n") + 2), "before|during|end");
  EXPECT_EQ(echoed.find("content-length"), std::string::npos) << "a written body has no declared length";
  // The request ended: the writer takes nothing more.
  EXPECT_TRUE(body.ended());
  EXPECT_EQ(body.write("late"), BodyWriter::WriteResult::closed);
  EXPECT_FALSE(body.finish());
}

TEST(ClientBodyWriter, TheResponseStreamsBackWhileTheBodyIsStillBeingWritten) {
  // A full-duplex echo: each DATA frame is answered before the client has
  // written the next, which it only does after seeing the echo.
  RawServer server([](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    open_writer_connection(conn, frames);
    frames.next_of_type(f::HEADERS);
    conn.write(f::headers(1, {{":status", "200"}}, false));
    for (;;) {
      const f::Frame fr = frames.next(10s);
      if (fr.stream_id != 1) continue;
      if (fr.type == f::DATA && !fr.payload.empty()) conn.write(f::data(1, fr.payload, false));
      if (fr.flags & f::flag::END_STREAM) break;
    }
    conn.write(f::headers(1, {{"grpc-status", "0"}}, true));
    conn.read_some(2s);
  });
  CheckedClient c(duplex_h2c());
  BodyWriter body;
  SinkBytes got;
  Completions done(1);
  c.send_async(Request("POST", server.url("/duplex")).body_writer(body).on_body(got.sink()), done.callback(0));
  body.write("one;");
  ASSERT_TRUE(got.wait_for("one;")) << c.dump_pools();
  body.write("two;");
  ASSERT_TRUE(got.wait_for("one;two;")) << c.dump_pools();
  EXPECT_EQ(done.completed(), 0u) << "the request runs until the body ends";
  body.finish();
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_TRUE(done.result(0)) << done.result(0).error().message();
  EXPECT_EQ(done.result(0)->trailers().get("grpc-status").value_or(""), "0");
  EXPECT_TRUE(server.errors().empty()) << server.errors().front();
}

TEST(ClientBodyWriter, WhileTheServersWindowIsClosedWritesStopAtTheLimitAndResumeWhenItOpens) {
  constexpr std::size_t limit = 64 * 1024, piece = 16 * 1024;
  std::atomic<bool> window_closed{false}, open_window{false};
  std::atomic<std::size_t> server_got{0};
  RawServer server([&](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    // A window of 0: the client may send HEADERS, and no DATA at all -
    // once it has applied (acknowledged) these SETTINGS.
    open_writer_connection(conn, frames, {{f::setting::INITIAL_WINDOW_SIZE, 0}});
    bool acked = false, headers = false;
    while (!acked || !headers) {
      const f::Frame fr = frames.next(10s);
      acked = acked || (fr.type == f::SETTINGS && (fr.flags & f::flag::ACK));
      headers = headers || fr.type == f::HEADERS;
    }
    window_closed = true;
    // Bounded: a test that failed early must not leave this script waiting.
    for (int i = 0; i < 1000 && !open_window; ++i) std::this_thread::sleep_for(5ms);
    conn.write(f::window_update(1, 1u << 30) + f::window_update(0, 1u << 30));
    server_got = read_stream_body(frames, 1).size();
    conn.write(f::headers(1, {{":status", "204"}}, true));
    conn.read_some(2s);
  });
  CheckedClient c(duplex_h2c());
  BodyWriter body(limit);
  Completions done(1);
  c.send_async(Request("POST", server.url("/upload")).body_writer(body), done.callback(0));
  ASSERT_TRUE(eventually([&] { return window_closed.load(); }, 5s)) << c.dump_pools();
  const std::string chunk(piece, 'w');
  std::size_t taken = 0;
  BodyWriter::WriteResult r;
  while ((r = body.write(chunk)) == BodyWriter::WriteResult::written) {
    taken += piece;
    ASSERT_LE(taken, 16 * limit) << "write() kept taking bytes nobody can send";
  }
  EXPECT_EQ(r, BodyWriter::WriteResult::full);
  // Whole writes while fewer than `limit` bytes wait: at most one write over.
  EXPECT_GE(taken, limit);
  EXPECT_LE(taken, limit + piece);
  EXPECT_EQ(body.unsent(), taken);
  EXPECT_FALSE(body.wait_writable(100ms)) << "the window is still closed";
  open_window = true;
  ASSERT_TRUE(body.wait_writable(5s)) << c.dump_pools();
  ASSERT_EQ(body.write(chunk), BodyWriter::WriteResult::written);
  taken += piece;
  body.finish();
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_TRUE(done.result(0)) << done.result(0).error().message();
  EXPECT_EQ(done.result(0)->status(), 204);
  EXPECT_EQ(server_got.load(), taken);
}

TEST(ClientBodyWriter, ARefusedStreamIsSentAgainFromItsFirstByte) {
  // The first stream is refused after its first DATA frame arrived: the
  // server proved it did not process it, so the request goes again, and
  // the new stream carries every byte from the start.
  std::mutex m;
  std::vector<std::string> bodies;  // what each answered stream carried
  RawServer server([&](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    open_writer_connection(conn, frames);
    std::map<std::uint32_t, std::string> open;
    bool refused = false;
    for (;;) {
      const f::Frame fr = frames.next(10s);
      if (fr.type == f::HEADERS) open[fr.stream_id];
      if (fr.type == f::DATA && open.count(fr.stream_id)) open[fr.stream_id] += fr.payload;
      if (!refused && fr.type == f::DATA && !fr.payload.empty()) {
        refused = true;
        open.erase(fr.stream_id);
        conn.write(f::rst_stream(fr.stream_id, 7 /* REFUSED_STREAM */));
        continue;
      }
      if ((fr.type == f::DATA || fr.type == f::HEADERS) && (fr.flags & f::flag::END_STREAM) &&
          open.count(fr.stream_id)) {
        {
          std::lock_guard lock(m);
          bodies.push_back(open[fr.stream_id]);
        }
        conn.write(f::headers(fr.stream_id, {{":status", "200"}}, true));
        break;
      }
    }
    conn.read_some(2s);
  });
  CheckedClient c(duplex_h2c());
  BodyWriter body;
  body.write("abc");
  Completions done(1);
  c.send_async(Request("POST", server.url("/refused")).body_writer(body), done.callback(0));
  std::this_thread::sleep_for(100ms);  // the refusal usually comes first; the order does not matter
  body.write("def");
  body.finish();
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_TRUE(done.result(0)) << done.result(0).error().message();
  EXPECT_EQ(done.result(0)->attempts(), 2);
  std::lock_guard lock(m);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], "abcdef");
  EXPECT_TRUE(server.errors().empty()) << server.errors().front();
}

namespace {

// A server that reads the request's HEADERS and first DATA, then resets
// the connection (as a crash after the body arrived); on any later
// connection it answers 200 after END_STREAM. Counts the streams that
// carried DATA.
struct ResetAfterData {
  std::atomic<int> streams_with_data{0};
  RawServer server{[this](RawConnection& conn, int index) {
    f::FrameReader frames(conn);
    open_writer_connection(conn, frames);
    if (index == 0) {
      frames.next_of_type(f::DATA);
      ++streams_with_data;
      conn.reset();
      return;
    }
    const f::Frame h = frames.next_of_type(f::HEADERS);
    if (!read_stream_body(frames, h.stream_id).empty()) ++streams_with_data;
    conn.write(f::headers(h.stream_id, {{":status", "200"}}, true));
    conn.read_some(2s);
  }};
};

}  // namespace

TEST(ClientBodyWriter, LostAfterSendingItIsSentAgainOnlyWhileTheWholeBodyStillFitsTheReplayCopy) {
  // RetryPolicy::always vouches that resending is safe: what decides is
  // whether the bytes already sent are still there to resend.
  {
    ResetAfterData peer;
    CheckedClient c(duplex_h2c());
    BodyWriter body(1024);
    body.write("small");
    body.finish();
    auto r = c.send(Request("POST", peer.server.url("/kept")).body_writer(body).retry_policy(RetryPolicy::always));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->attempts(), 2);
    EXPECT_EQ(peer.streams_with_data.load(), 2);
  }
  {
    ResetAfterData peer;
    CheckedClient c(duplex_h2c());
    BodyWriter body(8);  // 16 bytes sent: more than the replay copy keeps
    body.write("0123456789abcdef");
    body.finish();
    auto r = c.send(Request("POST", peer.server.url("/gone")).body_writer(body).retry_policy(RetryPolicy::always));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reached(), progress::sent) << r.error().message();
    EXPECT_EQ(r.error().attempts(), 1) << r.error().message();
    EXPECT_EQ(peer.streams_with_data.load(), 1);
    EXPECT_EQ(peer.server.connections_accepted(), 1);
  }
}

TEST(ClientBodyWriter, CancellingTheRequestResetsItsStreamWithCancelAndClosesTheWriter) {
  std::atomic<bool> headers_arrived{false};
  std::atomic<std::uint32_t> reset_code{0xffffffff};
  RawServer server([&](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    open_writer_connection(conn, frames);
    frames.next_of_type(f::HEADERS);
    conn.write(f::headers(1, {{":status", "200"}}, false));
    headers_arrived = true;
    reset_code = f::u32_at(frames.next_of_type(f::RST_STREAM, 10s).payload, 0);
    conn.read_some(1s);
  });
  CheckedClient c(duplex_h2c());
  BodyWriter body;
  Cancellation cancel;
  Completions done(1);
  c.send_async(Request("POST", server.url("/cancel")).body_writer(body).cancellation(cancel), done.callback(0));
  ASSERT_TRUE(eventually([&] { return headers_arrived.load(); }, 5s));
  cancel.cancel();
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_FALSE(done.result(0));
  EXPECT_EQ(done.result(0).error().code(), errc::cancelled);
  EXPECT_TRUE(eventually([&] { return reset_code.load() == 8 /* CANCEL */; }, 5s)) << reset_code.load();
  EXPECT_TRUE(body.ended());
  EXPECT_EQ(body.write("more"), BodyWriter::WriteResult::closed);
  EXPECT_FALSE(body.wait_writable(10s)) << "returns at once: the body is closed";
}

TEST(ClientBodyWriter, AnAnswerThatEndsBeforeTheBodyDoesCompletesTheRequestAndResetsOurHalfWithNoError) {
  // A gRPC server that sends its status while the client still writes.
  std::atomic<std::uint32_t> reset_code{0xffffffff};
  RawServer server([&](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    open_writer_connection(conn, frames);
    frames.next_of_type(f::HEADERS);
    conn.write(f::headers(1, {{":status", "200"}, {"grpc-status", "9"}}, true));
    reset_code = f::u32_at(frames.next_of_type(f::RST_STREAM, 10s).payload, 0);
    conn.read_some(1s);
  });
  CheckedClient c(duplex_h2c());
  BodyWriter body;
  body.write("not finished");
  auto r = c.send(Request("POST", server.url("/early")).body_writer(body).timeout(10s));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->headers().get("grpc-status").value_or(""), "9");
  EXPECT_TRUE(eventually([&] { return reset_code.load() == 0 /* NO_ERROR */; }, 5s)) << reset_code.load();
  EXPECT_TRUE(body.ended());
}

TEST(ClientBodyWriter, OverHttp1ItFailsWithHttp2RequiredBeforeAnythingIsSent) {
  auto s = start_server();
  CheckedClient c;  // http:// without prior knowledge: HTTP/1.1
  BodyWriter body;
  body.write("x");
  auto r = c.send(Request("POST", s->url() + "/echo").body_writer(body));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::http2_required) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::not_sent);
  EXPECT_EQ(r.error().attempts(), 0) << r.error().message();
  EXPECT_FALSE(is_retryable(r.error().code()));
  EXPECT_TRUE(body.ended());
  EXPECT_EQ(s->stats().requests, 0u);
  // The HTTP/1.1 connection stays for the requests it can carry.
  auto next = c.get(s->url() + "/");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_EQ(s->stats().connections_accepted, 1u);
}

TEST(ClientBodyWriter, AWriterCarriesOneRequest) {
  auto s = start_server();
  CheckedClient c(duplex_h2c());
  BodyWriter body;
  Completions done(1);
  c.send_async(Request("POST", s->url() + "/echo").body_writer(body), done.callback(0));
  auto second = c.send(Request("POST", s->url() + "/echo").body_writer(body));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), errc::invalid_request) << second.error().message();
  EXPECT_FALSE(body.closed()) << "the first request still owns it";
  body.write("first");
  body.finish();
  ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
  ASSERT_TRUE(done.result(0)) << done.result(0).error().message();
  EXPECT_EQ(s->stats().requests, 1u);
}
