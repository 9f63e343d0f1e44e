// A server that sheds load with 429 or 503 and Retry-After: a request that
// may be repeated waits the server's delay and tries again; a POST without
// an idempotency key gets the answer; a storm of 429s is held to the retry
// budget instead of being multiplied.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// `path` answers 429 with "Retry-After: <seconds>" to its first `busy` requests, then 200.
std::shared_ptr<std::atomic<int>> route_busy(server::Server& s, const std::string& path, int busy, int status,
                                             const std::string& seconds) {
  auto seen = std::make_shared<std::atomic<int>>(0);
  s.route(path, [seen, busy, status, seconds](const server::ServerRequest&) {
    server::ServerResponse r;
    if (seen->fetch_add(1) < busy) {
      r.status = status;
      r.headers.emplace_back("retry-after", seconds);
      r.body = "busy";
    } else {
      r.body = "ok";
    }
    return r;
  });
  return seen;
}

}  // namespace

TEST(RetryAfter, AGetAnsweredBusyWaitsTheServersDelayAndSucceeds) {
  for (const int status : {429, 503}) {
    SCOPED_TRACE(status);
    auto s = start_server();
    auto seen = route_busy(*s, "/busy", 1, status, "1");
    std::atomic<int> retry_events{0};
    Options o;
    o.on_event = [&](const Event& e) {
      if (e.kind == EventKind::retry && e.detail.find("Retry-After") != std::string::npos) ++retry_events;
    };
    CheckedClient c(o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.send(Request::get(s->url() + "/busy").timeout(10s));
    const auto took = elapsed_since(t0);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->body(), "ok");
    EXPECT_EQ(r->attempts(), 2);
    EXPECT_GE(took, 1s) << "retried before the server's delay";
    EXPECT_LT(took, 5s);
    EXPECT_EQ(seen->load(), 2);
    EXPECT_EQ(retry_events.load(), 1) << "the events do not say the server asked for the wait";
  }
}

// A streamed response (a body sink) is decided at its status: a busy
// answer's body is held back from the sink until the pool knows whether it
// retries, so the sink sees one body - the final one - whole.
TEST(RetryAfter, AStreamedGetAnsweredBusyWaitsAndItsSinkSeesOnlyTheFinalBody) {
  for (const auto version : {HttpVersion::http1_only, HttpVersion::http2_prior_knowledge}) {
    SCOPED_TRACE(version == HttpVersion::http1_only ? "HTTP/1.1" : "h2c");
    auto s = start_server();
    auto seen = route_busy(*s, "/busy", 1, 429, "1");
    Options o;
    o.http_version = version;
    CheckedClient c(o);
    auto streamed = std::make_shared<std::string>();
    auto r = c.send(Request::get(s->url() + "/busy").timeout(10s).on_body(
        [streamed](std::string_view chunk) { streamed->append(chunk); }));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->attempts(), 2);
    EXPECT_EQ(*streamed, "ok") << "the sink saw the busy answer's body";
    EXPECT_EQ(seen->load(), 2);
  }
}

TEST(RetryAfter, AStreamedBusyAnswerThatIsNotRetriedReachesItsSinkWhole) {
  for (const auto version : {HttpVersion::http1_only, HttpVersion::http2_prior_knowledge}) {
    SCOPED_TRACE(version == HttpVersion::http1_only ? "HTTP/1.1" : "h2c");
    auto s = start_server();
    route_busy(*s, "/busy", 1'000, 503, "30");
    Options o;
    o.http_version = version;
    CheckedClient c(o);
    auto streamed = std::make_shared<std::string>();
    auto sink = [streamed](std::string_view chunk) { streamed->append(chunk); };
    // Past the deadline: the caller's answer, body included.
    auto r = c.send(Request::get(s->url() + "/busy").timeout(2s).on_body(sink));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 503);
    EXPECT_EQ(*streamed, "busy");
    // A POST is never repeated: its answer too.
    streamed->clear();
    r = c.send(Request::post(s->url() + "/busy", "x").timeout(10s).on_body(sink));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 503);
    EXPECT_EQ(*streamed, "busy");
  }
}

TEST(RetryAfter, APostWithoutAKeyGetsTheBusyAnswerAndIsNotResent) {
  auto s = start_server();
  auto seen = route_busy(*s, "/busy", 1, 429, "1");
  CheckedClient c;
  auto r = c.send(Request::post(s->url() + "/busy", "payload").timeout(10s));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 429);
  EXPECT_EQ(r->attempts(), 1);
  EXPECT_EQ(seen->load(), 1);
}

TEST(RetryAfter, AWaitPastTheDeadlineReturnsTheBusyAnswerAtOnce) {
  auto s = start_server();
  route_busy(*s, "/busy", 1, 503, "30");
  CheckedClient c;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.send(Request::get(s->url() + "/busy").timeout(2s));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 503);
  EXPECT_LT(elapsed_since(t0), 1s) << "waited for a retry that could not come in time";
}

// The first attempt was answered 429; the retry has not left the client
// when the caller cancels during the server's delay. How far the request
// got is how far its current attempt got: not sent (the 429 said the
// server did not do the work), never the earlier attempt's
// "response_started", which would tell the caller a response was cut off.
TEST(RetryAfter, ARequestCancelledWhileItWaitsOutRetryAfterReportsItsRetryWasNotSent) {
  auto s = start_server();
  auto seen = route_busy(*s, "/busy", 1, 429, "5");
  CheckedClient c;
  Cancellation cancel;
  auto done = std::make_shared<std::promise<Result<Response>>>();
  auto result = done->get_future();
  // The deadline allows the wait: past it, the 429 itself would be the answer.
  c.send_async(Request::get(s->url() + "/busy").timeout(20s).cancellation(cancel),
               [done](Result<Response> r) { done->set_value(std::move(r)); });
  ASSERT_TRUE(eventually([&] { return c.counters().retries == 1; })) << "the 429 was not waited out";
  cancel.cancel();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  auto r = result.get();
  ASSERT_FALSE(r) << "status " << r->status();
  EXPECT_EQ(r.error().code(), errc::cancelled);
  EXPECT_EQ(r.error().reached(), progress::not_sent) << r.error().message();
  EXPECT_NE(r.error().message().find("[not sent, attempts: 1]"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("waiting to retry"), std::string::npos) << r.error().message();
  EXPECT_EQ(seen->load(), 1);
}

TEST(RetryAfter, AStormOfBusyAnswersIsHeldToTheRetryBudget) {
  // Every answer is 429 "Retry-After: 0". 200 concurrent GETs: without a
  // budget each would be tried max_attempts (4) times - 600 retries; the
  // budget (a fifth of recent requests, plus a floor of 10 a second over
  // its 10 s window) holds them to 40 + 100, and the rest get the 429.
  auto s = start_server();
  auto seen = route_busy(*s, "/busy", 1'000'000, 429, "0");
  CheckedClient c;
  constexpr std::size_t n = 200;
  Completions done(n);
  for (std::size_t i = 0; i < n; ++i) c.send_async(Request::get(s->url() + "/busy").timeout(10s), done.callback(i));
  ASSERT_TRUE(done.wait(30s)) << c.dump_pools();
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(done.result(i)) << done.result(i).error().message();
    EXPECT_EQ(done.result(i)->status(), 429);
  }
  const auto retries = c.counters().retries;
  EXPECT_GT(retries, 0u);
  EXPECT_LE(retries, n / 5 + 10 * 10) << "retries beyond the budget";
  EXPECT_EQ(static_cast<std::uint64_t>(seen->load()), n + retries);
}

TEST(RetryAfter, TheServersBusyFaultIsRiddenOutByAGetAndReturnedToAPost) {
  auto s = start_server();
  CheckedClient c;
  ASSERT_TRUE(c.get(s->url() + "/"));
  s->answer_busy_next(1, 1, 503);
  const auto t0 = std::chrono::steady_clock::now();
  auto get = c.send(Request::get(s->url() + "/").timeout(10s));
  ASSERT_TRUE(get) << get.error().message();
  EXPECT_EQ(get->status(), 200);
  EXPECT_GE(elapsed_since(t0), 1s);
  s->answer_busy_next(1, 1);
  auto post = c.send(Request::post(s->url() + "/echo", "x").timeout(10s));
  ASSERT_TRUE(post) << post.error().message();
  EXPECT_EQ(post->status(), 429);
  EXPECT_EQ(post->headers().get("retry-after").value_or(""), "1");
}
