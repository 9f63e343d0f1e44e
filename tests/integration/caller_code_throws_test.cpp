// The caller's own code throwing inside rebound: a body sink, a body source
// or a completion. A throwing sink or source fails its own request with
// errc::callback_threw, saying which callback threw and what, and nothing
// else: over HTTP/2 the other streams on the same connection carry on
// (nghttp2's C frames never see the exception); over HTTP/1.1 the
// connection, left mid-message, is closed and the next request gets a new
// one. A throwing completion is caught and counted when it runs on
// rebound's own thread, and propagates out of the caller's run() when it
// runs on the caller's executor.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

Options speaking(HttpVersion version) {
  Options o;
  o.http_version = version;
  return o;
}

std::string name_of(HttpVersion version) { return version == HttpVersion::http1_only ? "HTTP/1.1" : "h2c"; }

void expect_failed_because_it_threw(const Result<Response>& r, const std::string& which, const std::string& what) {
  ASSERT_FALSE(r) << "status " << r->status();
  EXPECT_EQ(r.error().code(), errc::callback_threw) << r.error().message();
  EXPECT_NE(r.error().message().find("the request's " + which + " threw: " + what), std::string::npos)
      << r.error().message();
}

// A source that yields one chunk, then throws.
Request::BodySource source_that_throws_after_one_chunk() {
  auto calls = std::make_shared<int>(0);
  return [calls]() -> std::string {
    if ((*calls)++ == 0) return std::string(1000, 'x');
    throw std::runtime_error("the upload file vanished");
  };
}

}  // namespace

class CallerCodeThrows : public ::testing::TestWithParam<HttpVersion> {};

TEST_P(CallerCodeThrows, ABodySinkThatThrowsFailsItsOwnRequestAndTheOthersAreServed) {
  auto s = start_server();
  CheckedClient c(speaking(GetParam()));
  auto slow = std::async(std::launch::async, [&] { return c.get(s->url() + "/delay/300"); });
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/300"] == 1; }));
  auto r = c.send(Request::get(s->url() + "/bytes/100000").timeout(10s).on_body([](std::string_view) {
    throw std::runtime_error("disk full");
  }));
  expect_failed_because_it_threw(r, "body sink", "disk full");
  EXPECT_EQ(r.error().reached(), progress::response_started) << r.error().message();
  const auto other = slow.get();
  ASSERT_TRUE(other) << other.error().message();
  const auto after = c.get(s->url() + "/");
  ASSERT_TRUE(after) << after.error().message();
  if (GetParam() != HttpVersion::http1_only) {
    EXPECT_EQ(after->connection_id(), other->connection_id()) << "the HTTP/2 connection did not survive";
    EXPECT_EQ(c.counters().dials, 1u);
  }
}

TEST_P(CallerCodeThrows, ABodySourceThatThrowsFailsItsOwnRequestWithoutResendingIt) {
  auto s = start_server();
  CheckedClient c(speaking(GetParam()));
  auto slow = std::async(std::launch::async, [&] { return c.get(s->url() + "/delay/300"); });
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/300"] == 1; }));
  auto r = c.send(
      Request::post(s->url() + "/echo", "").timeout(10s).body_source(source_that_throws_after_one_chunk()));
  expect_failed_because_it_threw(r, "body source", "the upload file vanished");
  EXPECT_EQ(r.error().attempts(), 1) << r.error().message();
  const auto other = slow.get();
  ASSERT_TRUE(other) << other.error().message();
  const auto after = c.get(s->url() + "/");
  ASSERT_TRUE(after) << after.error().message();
  if (GetParam() != HttpVersion::http1_only) {
    EXPECT_EQ(after->connection_id(), other->connection_id()) << "the HTTP/2 connection did not survive";
    EXPECT_EQ(c.counters().dials, 1u);
  }
}

// A send_async callback runs on rebound's I/O thread: nobody's run() could
// catch what it throws, and letting it out would end the process. It is
// caught and counted, and the thread goes on serving.
TEST_P(CallerCodeThrows, ACallbackThatThrowsOnTheClientsThreadIsCountedAndTheClientCarriesOn) {
  auto s = start_server();
  CheckedClient c(speaking(GetParam()));
  std::promise<void> ran;
  c.send_async(Request::get(s->url() + "/"), [&ran](Result<Response>) {
    ran.set_value();
    throw std::runtime_error("a bug in the caller's callback");
  });
  ran.get_future().wait();
  ASSERT_TRUE(eventually([&] { return c.counters().callbacks_threw == 1; }, 5s));
  // A completion token without an executor of its own runs on Asio's
  // system executor: nobody's run() there either.
  c.async_send(Request::get(s->url() + "/"), [](Result<Response>) { throw std::runtime_error("and another"); });
  ASSERT_TRUE(eventually([&] { return c.counters().callbacks_threw == 2; }, 5s));
  const auto after = c.get(s->url() + "/");
  ASSERT_TRUE(after) << after.error().message();
}

// A completion on the caller's own executor throws where any Asio
// operation's would: out of that executor's run().
TEST_P(CallerCodeThrows, ACompletionThatThrowsOnTheCallersExecutorLeavesThroughTheCallersRun) {
  auto s = start_server();
  CheckedClient c(speaking(GetParam()));
  boost::asio::io_context caller;
  c.async_send(Request::get(s->url() + "/"), boost::asio::bind_executor(caller, [](Result<Response>) {
                 throw std::runtime_error("a bug in the caller's handler");
               }));
  EXPECT_THROW(caller.run(), std::runtime_error);
  EXPECT_EQ(c.counters().callbacks_threw, 0u);
  const auto after = c.get(s->url() + "/");
  ASSERT_TRUE(after) << after.error().message();
}

INSTANTIATE_TEST_SUITE_P(Protocols, CallerCodeThrows,
                         ::testing::Values(HttpVersion::http1_only, HttpVersion::http2_prior_knowledge),
                         [](const auto& info) { return name_of(info.param) == "h2c" ? "h2c" : "http1"; });
