// The Client's lifecycle and re-entrancy: what happens to requests sent
// after shutdown, to requests in flight when the Client goes, to shutdown
// or destruction from inside a callback, to one Cancellation reused across
// requests, and to user code (event hooks, body sinks, callbacks) that
// sends or cancels requests while the engine is working.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

Options speaking(bool h2) {
  Options o;
  o.http_version = h2 ? HttpVersion::http2_prior_knowledge : HttpVersion::http1_only;
  return o;
}

}  // namespace

TEST(ClientLifecycle, ARequestAfterShutdownFailsAtOnceWithClientShutDown) {
  auto s = start_server();
  CheckedClient c;
  c.shutdown();
  Completions done(1);
  c.send_async(Request::get(s->url() + "/"), done.callback(0));
  ASSERT_TRUE(done.wait(20s)) << "a request sent after shutdown() never completed";
  ASSERT_FALSE(done.result(0));
  EXPECT_EQ(done.result(0).error().code(), errc::client_shut_down) << done.result(0).error().message();

  // The blocking form too (on a thread of its own, so a hang fails the test instead of hanging it).
  auto blocking = std::make_shared<std::promise<Result<Response>>>();
  std::thread([&c, blocking, url = s->url()] { blocking->set_value(c.get(url + "/")); }).detach();
  auto f = blocking->get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready) << "a blocking get after shutdown() never returned";
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::client_shut_down);
}

TEST(ClientLifecycle, DestroyingTheClientCompletesEveryRequestInFlightExactlyOnce) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    auto s = start_server();
    Options o = speaking(h2);
    o.max_conns_per_origin = 4;  // h1: 4 on the wire, the rest queued
    auto c = std::make_unique<Client>(o);
    constexpr std::size_t n = 40;
    Completions done(n);
    for (std::size_t i = 0; i < n; ++i) c->send_async(Request::get(s->url() + "/delay/5000"), done.callback(i));
    // Some on the wire (running on the server), some queued.
    ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/5000"] >= 4; }));
    c.reset();
    ASSERT_TRUE(done.wait(20s)) << done.completed() << " of " << n << " completed";
    EXPECT_EQ(done.duplicates(), 0u);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_FALSE(done.result(i)) << i;
      EXPECT_EQ(done.result(i).error().code(), errc::client_shut_down) << done.result(i).error().message();
    }
  }
}

// The caller's cancellation signal and executor live longer than the
// Client, and its completion has not run when the Client goes (the caller's
// io_context is not running yet): the slot still holds rebound's handler.
// Emitting on it then must touch nothing the Client freed (run under
// ci-sanitize, the old handler's Shard& was a heap-use-after-free).
TEST(ClientLifecycle, ACancellationSignalEmittedAfterTheClientIsGoneDoesNothing) {
  namespace asio = boost::asio;
  auto s = start_server();
  asio::io_context caller;
  asio::cancellation_signal signal;
  std::optional<Result<Response>> result;
  auto c = std::make_unique<Client>();
  c->async_send(Request::get(s->url() + "/delay/5000"),
                asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(caller, [&](Result<Response> r) {
                                               result = std::move(r);
                                             })));
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/5000"] == 1; }));
  c.reset();
  signal.emit(asio::cancellation_type::terminal);
  caller.run();
  ASSERT_TRUE(result) << "the completion never ran";
  ASSERT_FALSE(*result) << "status " << (*result)->status();
  EXPECT_EQ(result->error().code(), errc::client_shut_down) << result->error().message();
}

TEST(ClientLifecycle, ShutdownFromACompletionCallbackShutsEverythingDown) {
  auto s = start_server();
  auto c = std::make_unique<Client>(speaking(true));
  Completions slow(1);
  c->send_async(Request::get(s->url() + "/delay/5000"), slow.callback(0));
  std::promise<void> shut;
  c->send_async(Request::get(s->url() + "/"), [&](Result<Response>) {
    c->shutdown();  // on the client's own I/O thread
    shut.set_value();
  });
  ASSERT_EQ(shut.get_future().wait_for(20s), std::future_status::ready);
  ASSERT_TRUE(slow.wait(20s)) << "the request in flight was not failed by a shutdown from a callback";
  EXPECT_EQ(slow.result(0).error().code(), errc::client_shut_down);
  Completions after(1);
  c->send_async(Request::get(s->url() + "/"), after.callback(0));
  ASSERT_TRUE(after.wait(20s));
  EXPECT_EQ(after.result(0).error().code(), errc::client_shut_down);
  c.reset();  // joins the thread the callback ran on
}

TEST(ClientLifecycle, DestroyedFromItsOwnCallbackItStillCompletesEverythingOnce) {
  auto s = start_server();
  const auto fds_before = open_fds();
  auto c = std::make_unique<Client>(speaking(true));
  Completions slow(1);
  c->send_async(Request::get(s->url() + "/delay/5000"), slow.callback(0));
  std::promise<void> destroyed;
  c->send_async(Request::get(s->url() + "/"), [&](Result<Response>) {
    c.reset();
    destroyed.set_value();
  });
  ASSERT_EQ(destroyed.get_future().wait_for(20s), std::future_status::ready);
  ASSERT_TRUE(slow.wait(20s));
  EXPECT_EQ(slow.result(0).error().code(), errc::client_shut_down);
  EXPECT_EQ(slow.duplicates(), 0u);
  // A helper thread finishes the teardown: the engine's sockets and event
  // fds go. (Waiting also keeps the process from exiting under it, which
  // TSan reports as OpenSSL's exit-time cleanup racing the helper.)
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (open_fds() > fds_before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(open_fds(), fds_before) << "the engine of a Client destroyed from its own callback was never freed";
  std::this_thread::sleep_for(100ms);  // the last member (the TLS context) goes right after the fds
}

TEST(ClientLifecycle, OneCancellationReusedForManyRequestsHoldsNoListenerAfterEach) {
  auto s = start_server();
  Cancellation cancel;
  {
    CheckedClient c(speaking(true));
    for (int i = 0; i < 200; ++i) {
      auto r = c.send(Request::get(s->url() + "/").cancellation(cancel));
      ASSERT_TRUE(r) << r.error().message();
    }
    EXPECT_EQ(cancel.attached(), 0u) << "each completed request left its listener behind";
    Completions running(1);
    c.send_async(Request::get(s->url() + "/delay/5000").cancellation(cancel), running.callback(0));
    EXPECT_EQ(cancel.attached(), 1u);
    cancel.cancel();
    ASSERT_TRUE(running.wait(20s));
    EXPECT_EQ(running.result(0).error().code(), errc::cancelled);
  }
  // The Client is gone: cancelling a handle it used must not reach into it.
  Cancellation again;
  {
    CheckedClient c(speaking(true));
    ASSERT_TRUE(c.send(Request::get(s->url() + "/").cancellation(again)));
  }
  again.cancel();
  EXPECT_TRUE(again.cancelled());
}

TEST(ClientLifecycle, EventHooksMaySendAndCancelRequestsAndAGoawayHookNeverGetsTheDyingConnection) {
  auto s = start_server();
  struct Shared {
    std::mutex mutex;
    Client* client = nullptr;
    std::string url;
    bool sent_on_goaway = false;
    std::uint64_t goaway_connection = 0;
    std::promise<Result<Response>> after_goaway;
    std::atomic<int> hook_requests{0};
  } shared;
  shared.url = s->url();
  Options o = speaking(true);
  o.on_event = [&shared](const Event& e) {
    std::lock_guard lock(shared.mutex);
    if (!shared.client) return;
    if (e.kind == EventKind::request_start && shared.hook_requests < 20) {
      // Send one and cancel another from inside the hook.
      ++shared.hook_requests;
      Cancellation cancel;
      shared.client->send_async(Request::get(shared.url + "/delay/1000").cancellation(cancel), [](Result<Response>) {});
      cancel.cancel();
    }
    if (e.kind == EventKind::goaway && !shared.sent_on_goaway) {
      shared.sent_on_goaway = true;
      shared.goaway_connection = e.connection;
      shared.client->send_async(Request::post(shared.url + "/echo", "after goaway"),
                                [&shared](Result<Response> r) { shared.after_goaway.set_value(std::move(r)); });
    }
  };
  Completions slow(1);  // declared before the client: it outlives every callback
  CheckedClient c(o);
  // The hooks stop reaching for the client before it is destroyed, even
  // when an ASSERT below leaves the test early.
  struct Detach {
    Shared& shared;
    ~Detach() {
      std::lock_guard lock(shared.mutex);
      shared.client = nullptr;
    }
  } detach{shared};
  {
    std::lock_guard lock(shared.mutex);
    shared.client = &c;
  }
  ASSERT_TRUE(c.get(s->url() + "/"));
  c.send_async(Request::get(s->url() + "/delay/300"), slow.callback(0));
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/300"] == 1; }));
  s->send_goaway();  // last-stream-id: the highest seen, so the slow one finishes
  auto f = shared.after_goaway.get_future();
  ASSERT_EQ(f.wait_for(20s), std::future_status::ready) << "the request sent from the GOAWAY hook never completed";
  auto r = f.get();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->attempts(), 1) << "the hook's POST was first put on the connection that had sent GOAWAY";
  EXPECT_NE(r->connection_id(), shared.goaway_connection);
  ASSERT_TRUE(slow.wait(20s));
  EXPECT_TRUE(slow.result(0)) << slow.result(0).error().message();
  EXPECT_EQ(c.counters().completions_dropped, 0u);
}

TEST(ClientLifecycle, ABodySinkMaySendRequestsAndCancelItsOwnRequest) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    auto s = start_server();
    CheckedClient c(speaking(h2));
    Cancellation cancel;
    Completions inner(1);
    std::atomic<int> chunks{0};
    auto r = c.send(Request::get(s->url() + "/bytes/3000000").cancellation(cancel).on_body([&](std::string_view) {
      if (++chunks == 1) {
        c.send_async(Request::get(s->url() + "/bytes/10"), inner.callback(0));
        cancel.cancel();
      }
    }));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::cancelled) << r.error().message();
    ASSERT_TRUE(inner.wait(20s));
    EXPECT_TRUE(inner.result(0)) << inner.result(0).error().message();
    EXPECT_EQ(c.counters().completions_dropped, 0u);
  }
}
