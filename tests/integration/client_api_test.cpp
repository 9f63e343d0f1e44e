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

#include <array>
#include <atomic>
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

TEST(ClientApi, DestroyingTheClientFailsEveryOutstandingRequestExactlyOnceWhereverItWaits) {
  // Requests in three places: one in flight on the only HTTP/1.1
  // connection, nine queued behind it, and five waiting for a TLS
  // handshake that a listener which never accepts leaves hanging.
  auto s = start_server();
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});  // listens, never accepts
  const auto silent_url = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  Options o;
  o.max_conns_per_origin = 1;
  o.http_version = HttpVersion::http1_only;
  auto c = std::make_unique<Client>(o);
  constexpr int n = 15;
  std::array<std::atomic<int>, n> calls{};
  std::array<std::atomic<int>, n> shut_down{};
  for (int i = 0; i < n; ++i) {
    const std::string url = i < 10 ? s->url() + "/delay/5000" : silent_url;
    c->send_async(Request::get(url), [&calls, &shut_down, i](Result<Response> r) {
      ++calls[i];
      if (!r && r.error().code() == errc::client_shut_down) ++shut_down[i];
    });
  }
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/5000"] == 1; })) << "never reached the server";
  c.reset();
  // Every callback ran by the time the destructor returned; none runs later.
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(calls[i].load(), 1) << "request " << i << (i == 0 ? " (in flight)" : i < 10 ? " (queued)" : " (dialing)");
    EXPECT_EQ(shut_down[i].load(), 1) << "request " << i << " did not fail with client_shut_down";
  }
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
