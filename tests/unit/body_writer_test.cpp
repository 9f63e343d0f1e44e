// BodyWriter's state without a connection: the bound on unsent bytes, the
// replay copy that makes an unprocessed attempt resendable (and when it is
// dropped), the wake-up of a stream that found nothing to send, and the
// request's end closing everything.
#include "inflight/body_writer_state.hpp"

#include <gtest/gtest.h>

#include <array>
#include <thread>

using namespace rebound;
using namespace std::chrono_literals;
using WR = BodyWriter::WriteResult;

namespace {

std::string pull_all(detail::BodyWriterState& s, bool* end = nullptr) {
  std::array<std::uint8_t, 7> buf{};  // small: several pulls per write
  std::string out;
  for (;;) {
    const auto p = s.pull(buf.data(), buf.size());
    out.append(reinterpret_cast<const char*>(buf.data()), p.bytes);
    if (end) *end = p.end;
    if (p.end || p.deferred) return out;
  }
}

}  // namespace

TEST(BodyWriter, WritesAreTakenWholeWhileFewerThanTheLimitWaitUnsent) {
  BodyWriter w(10);
  EXPECT_EQ(w.write("123456789"), WR::written);  // 9 unsent
  EXPECT_EQ(w.write("abcdef"), WR::written);     // taken whole: 15 unsent
  EXPECT_EQ(w.write("x"), WR::full);
  EXPECT_EQ(w.unsent(), 15u);
  EXPECT_FALSE(w.wait_writable(10ms));
  w.state()->start_attempt({});
  EXPECT_EQ(pull_all(*w.state()), "123456789abcdef");
  EXPECT_EQ(w.unsent(), 0u);
  EXPECT_TRUE(w.wait_writable(0ms));
  EXPECT_EQ(w.write("x"), WR::written);
}

TEST(BodyWriter, APullThatFindsNothingIsWokenByTheNextWriteOrTheFinish) {
  BodyWriter w;
  int wakes = 0;
  w.state()->start_attempt([&] { ++wakes; });
  std::array<std::uint8_t, 16> buf{};
  EXPECT_TRUE(w.state()->pull(buf.data(), buf.size()).deferred);
  w.write("a");
  w.write("b");  // one wake per deferral, not per write
  EXPECT_EQ(wakes, 1);
  bool end = true;
  EXPECT_EQ(pull_all(*w.state(), &end), "ab");
  EXPECT_FALSE(end);
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(w.finish());
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(pull_all(*w.state(), &end), "");
  EXPECT_TRUE(end);
  EXPECT_FALSE(w.finish()) << "finish() once";
  EXPECT_EQ(w.write("late"), WR::closed);
}

TEST(BodyWriter, AnAttemptStartsAgainFromTheFirstByteWhileTheReplayCopyIsWhole) {
  BodyWriter w(8);
  w.write("abcd");
  w.state()->start_attempt({});
  EXPECT_EQ(pull_all(*w.state()), "abcd");
  EXPECT_TRUE(w.state()->replayable());
  w.write("ef");
  w.finish();
  w.state()->start_attempt({});  // refused: again, from the start
  bool end = false;
  EXPECT_EQ(pull_all(*w.state(), &end), "abcdef");
  EXPECT_TRUE(end);
  EXPECT_TRUE(w.state()->replayable());
}

TEST(BodyWriter, MoreSentThanTheLimitDropsTheReplayCopy) {
  BodyWriter w(8);
  w.write("0123456789");  // one write over the limit is taken
  w.state()->start_attempt({});
  EXPECT_EQ(pull_all(*w.state()), "0123456789");
  EXPECT_FALSE(w.state()->replayable());
  w.write("x");
  w.state()->start_attempt({});  // not replayable: carries on, never rewinds
  EXPECT_EQ(pull_all(*w.state()), "x");
}

TEST(BodyWriter, TheResponseStartingDropsTheReplayCopy) {
  BodyWriter w;
  w.write("abc");
  w.state()->start_attempt({});
  EXPECT_EQ(pull_all(*w.state()), "abc");
  w.state()->response_started();
  EXPECT_FALSE(w.state()->replayable());
}

TEST(BodyWriter, TheRequestsEndClosesTheWriterAndReleasesAWaiter) {
  BodyWriter w(1);
  w.write("full");
  std::thread waiter([&] { EXPECT_FALSE(w.wait_writable(10s)); });
  std::this_thread::sleep_for(20ms);
  w.state()->end();
  waiter.join();
  EXPECT_TRUE(w.ended());
  EXPECT_TRUE(w.closed());
  EXPECT_EQ(w.unsent(), 0u) << "the bytes are released";
  EXPECT_EQ(w.write("x"), WR::closed);
  EXPECT_FALSE(w.finish());
}

TEST(BodyWriter, OnlyTheFirstRequestClaimsIt) {
  BodyWriter w;
  BodyWriter copy = w;  // copies share the state
  EXPECT_TRUE(w.state()->claim());
  EXPECT_FALSE(copy.state()->claim());
}
