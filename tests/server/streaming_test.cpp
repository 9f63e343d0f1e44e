// Streamed responses (ServerResponse::stream): the body reaches the client
// as the producer writes it, over every transport (HTTP/1.1 chunked, h2
// DATA frames, plain and TLS), and every way the exchange can end is seen by
// the producer: its close() (a complete body), the client going away,
// stop() (a clean, complete end) and kill() (an abrupt one). Plus the
// stream's own bookkeeping (ResponseStream) without a server.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "support/peer_skip.hpp"
#include "test_support.hpp"

namespace rebound::server::test {
namespace {

using namespace std::chrono_literals;

// The route's producer side, driven by the test: the handler parks each new
// stream here.
struct StreamSlot {
  std::mutex mutex;
  std::condition_variable cv;
  std::shared_ptr<ResponseStream> stream;
  std::atomic<int> ended_callbacks{0};

  std::shared_ptr<ResponseStream> wait() {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, 10s, [&] { return stream != nullptr; });
    return stream;
  }
};

void add_stream_route(Server& server, const std::shared_ptr<StreamSlot>& slot) {
  server.route("/stream*", [slot](const ServerRequest& request) {
    ServerResponse r;
    // "/stream-held": the answer is held back for a moment (ServerResponse::delay).
    if (request.path == "/stream-held") r.delay = std::chrono::milliseconds(500);
    r.headers = {{"content-type", "application/json"}};
    r.stream = std::make_shared<ResponseStream>();
    r.stream->on_end([slot] { ++slot->ended_callbacks; });
    {
      std::lock_guard lock(slot->mutex);
      slot->stream = r.stream;
    }
    slot->cv.notify_all();
    return r;
  });
}

class StreamingTest : public FdBaselineTest, public ::testing::WithParamInterface<Transport> {
 protected:
  void SetUp() override {
    if (!have_tool("curl")) REBOUND_SKIP_FOR_PEER("curl is not installed");
    ServerOptions options;
    options.tls = uses_tls(GetParam());
    server_ = std::make_unique<Server>(options);
    add_stream_route(*server_, slot_);
    server_->start();
  }
  void release() override { server_.reset(); }

  std::future<CurlResult> fetch(const std::string& extra = "", const std::string& path = "/stream") {
    return std::async(std::launch::async,
                      [this, extra, path] { return curl(*server_, GetParam(), path, "-N " + extra); });
  }

  std::unique_ptr<Server> server_;
  std::shared_ptr<StreamSlot> slot_ = std::make_shared<StreamSlot>();
};

TEST_P(StreamingTest, BodyArrivesAsWrittenAndEndsWhenTheProducerCloses) {
  auto result = fetch();
  auto stream = slot_->wait();
  ASSERT_NE(stream, nullptr);
  std::string expected;
  for (int i = 0; i < 5; ++i) {
    const std::string line = "{\"n\":" + std::to_string(i) + "}\n";
    EXPECT_TRUE(stream->write(line));
    expected += line;
    std::this_thread::sleep_for(20ms);  // separate chunks / DATA frames
  }
  // A body larger than one chunk and one default h2 window, so flow control has to resume it.
  const std::string big = pattern(200 * 1024) + "\n";
  EXPECT_TRUE(stream->write(big));
  expected += big;
  stream->close();
  const CurlResult r = result.get();
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, uses_h2(GetParam()) ? "2" : "1.1");
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(stream->state(), ResponseStream::State::closed);
  EXPECT_FALSE(stream->write("late\n")) << "a closed stream takes no more";
  EXPECT_EQ(slot_->ended_callbacks, 1);
}

TEST_P(StreamingTest, ClientThatGoesAwayCancelsTheProducer) {
  auto result = fetch("--max-time 1");
  auto stream = slot_->wait();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->write("first\n"));
  const CurlResult r = result.get();  // curl gives up after 1 s and closes its connection
  EXPECT_EQ(r.body, "first\n");
  EXPECT_TRUE(wait_until([&] { return stream->ended(); }, 3s)) << "the producer never learned the client left";
  EXPECT_EQ(stream->state(), ResponseStream::State::cancelled);
  EXPECT_FALSE(stream->write("more\n"));
  EXPECT_EQ(slot_->ended_callbacks, 1);
}

TEST_P(StreamingTest, StopEndsOpenStreamsCleanly) {
  auto result = fetch();
  auto stream = slot_->wait();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->write("before stop\n"));
  const auto started = std::chrono::steady_clock::now();
  server_->stop(5s);
  // The open stream does not hold stop() for its whole grace: it is ended.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  const CurlResult r = result.get();
  EXPECT_EQ(r.exit_code, 0) << "a drained stream is a complete body: " << r.error;
  EXPECT_EQ(r.body, "before stop\n");
  EXPECT_EQ(stream->state(), ResponseStream::State::drained);
  EXPECT_EQ(slot_->ended_callbacks, 1);
}

TEST_P(StreamingTest, StopDuringAHeldBackAnswerEndsTheStreamAsSoonAsItStarts) {
  auto result = fetch("", "/stream-held");
  auto stream = slot_->wait();  // the handler ran; its answer waits 500 ms
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->write("held\n"));
  const auto started = std::chrono::steady_clock::now();
  server_->stop(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s) << "the stream held stop() for its whole grace";
  const CurlResult r = result.get();
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.body, "held\n");
  EXPECT_EQ(stream->state(), ResponseStream::State::drained);
}

TEST_P(StreamingTest, KillCutsStreamsAbruptly) {
  auto result = fetch();
  auto stream = slot_->wait();
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->write("before kill\n"));
  // Let the line reach curl before the connection is reset.
  std::this_thread::sleep_for(300ms);
  server_->kill();
  const CurlResult r = result.get();
  EXPECT_NE(r.exit_code, 0) << "a killed stream must not look complete";
  EXPECT_TRUE(wait_until([&] { return stream->ended(); }, 3s));
  EXPECT_EQ(stream->state(), ResponseStream::State::cancelled);
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamingTest,
                         ::testing::Values(Transport::h1_tcp, Transport::h1_tls, Transport::h2_tls, Transport::h2c),
                         [](const auto& info) { return std::string(name(info.param)); });

TEST(ResponseStream, WritesAreTakenInOrderAndTheEndFollowsThem) {
  ResponseStream s;
  EXPECT_TRUE(s.write("ab"));
  EXPECT_TRUE(s.write("cd"));
  s.close();
  auto first = s.take(3);
  EXPECT_EQ(first.data, "abc");
  EXPECT_FALSE(first.finished) << "the end comes after the last byte";
  auto second = s.take();
  EXPECT_EQ(second.data, "d");
  EXPECT_TRUE(second.finished);
}

TEST(ResponseStream, WakesTheSessionOnlyAfterItFoundNothing) {
  ResponseStream s;
  int wakes = 0;
  s.attach([&] { ++wakes; });
  EXPECT_TRUE(s.write("x"));
  EXPECT_EQ(wakes, 0) << "the session has not looked yet: it will find the data";
  EXPECT_EQ(s.take().data, "x");
  EXPECT_TRUE(s.write("y"));
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(s.write("z"));
  EXPECT_EQ(wakes, 1) << "one wake until the session takes again";
  EXPECT_EQ(s.take().data, "yz");
  s.close();
  EXPECT_EQ(wakes, 2) << "the end wakes it too";
}

TEST(ResponseStream, AClientThatDoesNotReadIsDroppedPastTheLimit) {
  ResponseStream s(10);
  int ended = 0;
  s.on_end([&] { ++ended; });
  EXPECT_TRUE(s.write("0123456789"));
  EXPECT_FALSE(s.write("x"));
  EXPECT_EQ(s.state(), ResponseStream::State::cancelled);
  EXPECT_TRUE(s.take().cancelled);
  EXPECT_EQ(ended, 1);
  s.close();
  EXPECT_EQ(ended, 1) << "on_end runs once";
}

}  // namespace
}  // namespace rebound::server::test
