// The three ways to call the client (sync, callback, co_await), cancellation
// and shutdown.
#include "integration/fixtures.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <gtest/gtest.h>

#include <future>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST(ClientApi, CoAwaitResumesOnTheCoroutinesExecutor) {
  auto s = start_server();
  CheckedClient c;
  asio::io_context io;
  std::optional<Result<Response>> got;
  std::thread::id resumed_on;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    got = co_await c.async_send(Request::get(s->url() + "/bytes/5"), asio::use_awaitable);
    resumed_on = std::this_thread::get_id();
  }, asio::detached);
  io.run();  // returns only after the request completed: work is tracked
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(*got) << got->error().message();
  EXPECT_EQ((*got)->body().size(), 5u);
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
}

TEST(ClientApi, AwaitableOperatorCancelsTheRequest) {
  using namespace asio::experimental::awaitable_operators;
  auto s = start_server();
  CheckedClient c;
  asio::io_context io;
  bool timer_won = false;
  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, 100ms);
    auto which = co_await (c.async_send(Request::get(s->url() + "/delay/30000"), asio::use_awaitable) ||
                           t.async_wait(asio::use_awaitable));
    timer_won = which.index() == 1;
  }, asio::detached);
  io.run();
  EXPECT_TRUE(timer_won);
  EXPECT_LT(elapsed_since(t0), 10s) << "|| waited for the request: it was not cancelled";
}

TEST(ClientApi, CancellationHandleCancelsARunningRequest) {
  auto s = start_server();
  std::promise<Result<Response>> p;
  CheckedClient c;
  Cancellation cancel;
  c.send_async(Request::get(s->url() + "/delay/5000").cancellation(cancel),
               [&](Result<Response> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/5000"] == 1; })) << "never reached the server";
  cancel.cancel();
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::cancelled);
}

TEST(ClientApi, ShutdownFailsOutstandingRequestsExactlyOnce) {
  auto s = start_server();
  auto c = std::make_unique<Client>();
  std::promise<Result<Response>> p;
  c->send_async(Request::get(s->url() + "/delay/5000"), [&](Result<Response> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/5000"] == 1; })) << "never reached the server";
  c.reset();
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::client_shut_down) << r.error().message();
}

TEST(ClientApi, BlockingCallFromACallbackIsRefusedNotDeadlocked) {
  auto s = start_server();
  std::promise<Result<Response>> p;
  Client c;  // not CheckedClient: its blocking get is the real one under test
  c.send_async(Request::get(s->url() + "/"), [&](Result<Response>) { p.set_value(c.get(s->url() + "/")); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::invalid_request);
}

TEST(ClientApi, BodySinkStreamsTheResponseInChunksOverBothProtocols) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    auto s = start_server();
    Options o;
    o.http_version = h2 ? HttpVersion::http2_prior_knowledge : HttpVersion::http1_only;
    CheckedClient c(o);
    std::size_t bytes = 0, chunks = 0;
    auto r = c.send(Request::get(s->url() + "/bytes/3000000").on_body([&](std::string_view chunk) {
      bytes += chunk.size();
      ++chunks;
    }));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(bytes, 3000000u);
    EXPECT_GT(chunks, 1u);
    EXPECT_TRUE(r->body().empty());  // streamed, not buffered
    EXPECT_EQ(r->protocol(), h2 ? Protocol::http2 : Protocol::http1);
  }
}
