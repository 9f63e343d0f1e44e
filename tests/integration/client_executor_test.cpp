// A Client on the caller's executor (issue #26): it starts no thread,
// completes on that executor without a cross-thread hop, survives many
// threads running it, and shuts down without waiting for the caller.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

std::size_t threads_in_process() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

// Runs `io` on this thread until `done()` or `limit` passed; false on timeout.
template <class Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(20ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

// Options that tell when the Client's state is freed: it holds its Options,
// and with them this hook and the sentinel it captures.
Options watched(const std::shared_ptr<int>& sentinel, Options o = {}) {
  o.on_event = [sentinel](const Event&) {};
  return o;
}

}  // namespace

TEST(ClientOnCallersExecutor, CompletesOnTheCallersThreadWithoutAThreadOfItsOwn) {
  auto s = start_server();
  asio::io_context io(1);
  const auto before = threads_in_process();
  auto sentinel = std::make_shared<int>();
  auto c = std::make_unique<Client>(io.get_executor(), watched(sentinel));
  EXPECT_EQ(c->get_executor(), asio::any_io_executor(io.get_executor()));
  const auto me = std::this_thread::get_id();
  int callbacks = 0, coroutines = 0, elsewhere = 0;
  c->send_async(Request::get(s->url() + "/bytes/5"), [&](Result<Response> r) {
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    if (std::this_thread::get_id() != me) ++elsewhere;
    ++callbacks;
  });
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c->async_send(Request::get(s->url() + "/bytes/7"), asio::use_awaitable);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    if (r) {
      EXPECT_EQ(r->body().size(), 7u);
    }
    if (std::this_thread::get_id() != me) ++elsewhere;
    ++coroutines;
  }, asio::detached);
  ASSERT_TRUE(run_until(io, [&] { return callbacks == 1 && coroutines == 1; }));
  EXPECT_EQ(elsewhere, 0) << "a completion ran on a thread other than the one running the io_context";
  EXPECT_EQ(threads_in_process(), before) << "the Client started a thread";
  c.reset();
  // Its shutdown's handlers run on this io_context: run() returns once they did.
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped()) << "the destroyed Client left work on the caller's io_context";
  EXPECT_EQ(sentinel.use_count(), 1) << "the Client's state outlived its last handler";
}

TEST(ClientOnCallersExecutor, OneThreadCompletionRunsOnTheThreadThatSent) {
  auto s = start_server();
  asio::io_context io(1);
  Client c(io.get_executor());
  int done = 0, hopped = 0;
  asio::post(io, [&] {
    const auto caller = std::this_thread::get_id();
    c.async_send(Request::get(s->url() + "/bytes/3"), [&, caller](Result<Response> r) {
      EXPECT_TRUE(r);
      if (std::this_thread::get_id() != caller) ++hopped;
      ++done;
    });
  });
  ASSERT_TRUE(run_until(io, [&] { return done == 1; }));
  EXPECT_EQ(hopped, 0);
}

TEST(ClientOnCallersExecutor, FourThreadsManyOriginsEachRequestCompletesOnce) {
  std::vector<std::unique_ptr<server::Server>> servers;
  for (int i = 0; i < 3; ++i) servers.push_back(start_server());
  for (unsigned strands : {1u, 4u}) {
    asio::io_context io(4);
    auto guard = asio::make_work_guard(io);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    Options o;
    o.io_threads = strands;
    {
      Client c(io.get_executor(), o);
      constexpr std::size_t n = 300;
      Completions done(n);
      for (std::size_t i = 0; i < n; ++i) {
        // Half from the io_context's threads, half from this one.
        auto req = Request::get(servers[i % servers.size()]->url() + "/bytes/16");
        if (i % 2) asio::post(io, [&c, req, cb = done.callback(i)]() mutable { c.send_async(std::move(req), cb); });
        else c.send_async(std::move(req), done.callback(i));
      }
      ASSERT_TRUE(done.wait(30s)) << c.dump_pools();
      EXPECT_EQ(done.succeeded(), n) << "strands " << strands;
      EXPECT_EQ(done.duplicates(), 0u);
      EXPECT_EQ(c.counters().completions_dropped, 0u);
    }
    guard.reset();
    for (auto& t : threads) t.join();  // returns only once the Client's last handler ran
  }
}

TEST(ClientOnCallersExecutor, DestroyedWithRequestsInFlightEachCompletesShutDownOnce) {
  auto s = start_server();
  asio::io_context io(2);
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { io.run(); });
  constexpr std::size_t n = 20;
  Completions done(n);
  auto sentinel = std::make_shared<int>();
  {
    Client c(io.get_executor(), watched(sentinel));
    for (std::size_t i = 0; i < n; ++i) c.send_async(Request::get(s->url() + "/delay/5000"), done.callback(i));
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(done.wait(10s)) << "the shutdown's completions were not delivered";
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_FALSE(done.result(i));
    EXPECT_EQ(done.result(i).error().code(), errc::client_shut_down) << done.result(i).error().message();
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(done.duplicates(), 0u);
  guard.reset();
  for (auto& t : threads) t.join();
  EXPECT_EQ(sentinel.use_count(), 1) << "the Client's state outlived its last handler";
}

TEST(ClientOnCallersExecutor, DestroyedFromItsOwnCompletionDoesNotDeadlock) {
  auto s = start_server();
  asio::io_context io(1);
  auto sentinel = std::make_shared<int>();
  auto c = std::make_unique<Client>(io.get_executor(), watched(sentinel));
  Completions done(2);
  c->send_async(Request::get(s->url() + "/delay/3000"), done.callback(1));
  c->send_async(Request::get(s->url() + "/bytes/1"), [&, cb = done.callback(0)](Result<Response> r) {
    cb(std::move(r));
    c.reset();  // inside the Client's strand, on the only thread running io
  });
  ASSERT_TRUE(run_until(io, [&] { return done.completed() == 2; }, 10s));
  EXPECT_TRUE(done.result(0));
  ASSERT_FALSE(done.result(1));
  EXPECT_EQ(done.result(1).error().code(), errc::client_shut_down);
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped());
  EXPECT_EQ(sentinel.use_count(), 1) << "the Client's state outlived its last handler";
}

TEST(ClientOnCallersExecutor, BlockingSendFromTheExecutorsThreadIsRefused) {
  auto s = start_server();
  asio::io_context io(1);
  Client c(io.get_executor());
  std::optional<Result<Response>> from_handler, from_callback;
  asio::post(io, [&] { from_handler = c.get(s->url() + "/bytes/1"); });
  c.send_async(Request::get(s->url() + "/bytes/1"), [&](Result<Response>) { from_callback = c.get(s->url() + "/"); });
  ASSERT_TRUE(run_until(io, [&] { return from_handler && from_callback; }, 10s));
  for (auto* r : {&*from_handler, &*from_callback}) {
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error().code(), errc::invalid_request);
    EXPECT_NE(r->error().message().find("deadlock"), std::string::npos) << r->error().message();
  }
  // From another thread it blocks until this one runs the io_context.
  std::optional<Result<Response>> from_other;
  std::thread other([&] { from_other = c.get(s->url() + "/bytes/2"); });
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread watcher([&] {
    other.join();
    *done = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return done->load(); }, 10s));
  watcher.join();
  ASSERT_TRUE(from_other && *from_other);
  EXPECT_EQ((*from_other)->body().size(), 2u);
}

TEST(ClientOnCallersExecutor, OnAThreadPoolBlockingSendWorksOutsideAndIsRefusedInside) {
  auto s = start_server();
  asio::thread_pool pool(3);
  auto sentinel = std::make_shared<int>();
  {
    Client c(pool.get_executor(), watched(sentinel));
    auto outside = c.get(s->url() + "/bytes/4");
    ASSERT_TRUE(outside) << outside.error().message();
    EXPECT_EQ(outside->body().size(), 4u);
    std::promise<Result<Response>> inside;
    asio::post(pool, [&] { inside.set_value(c.get(s->url() + "/bytes/4")); });
    auto r = inside.get_future().get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::invalid_request);
  }
  // join() returns only when the pool is out of work: the Client left none.
  auto joined = std::async(std::launch::async, [&] { pool.join(); });
  ASSERT_EQ(joined.wait_for(10s), std::future_status::ready) << "the destroyed Client left work on the pool";
  EXPECT_EQ(sentinel.use_count(), 1);
}

TEST(ClientOnCallersExecutor, AnIoContextDestroyedUnrunAfterTheClientFreesItsState) {
  auto s = start_server();
  auto sentinel = std::make_shared<int>();
  Completions done(1);
  {
    asio::io_context io(1);
    auto c = std::make_unique<Client>(io.get_executor(), watched(sentinel));
    c->send_async(Request::get(s->url() + "/delay/5000"), done.callback(0));
    io.run_for(200ms);  // connected, the request on its way
    c.reset();
    // io is destroyed without running the shutdown's handlers: they are
    // destroyed unrun, the last of them freeing the Client's state.
  }
  EXPECT_EQ(sentinel.use_count(), 1) << "the Client's state outlived the io_context";
  EXPECT_LE(done.completed(), 1u);
  EXPECT_EQ(done.duplicates(), 0u);
}

// HTTP/2 connections read into one buffer per thread (net::Stream::
// async_read_shared): on a pool of threads, connections whose handlers run
// on any of them, and bodies larger than that buffer (each read fills it),
// must still read every response whole and in order, over h2c and TLS.
TEST(ClientOnCallersExecutor, OnAThreadPoolManyConnectionsReadEveryLargeBodyWhole) {
  server::ServerOptions tls_options;
  tls_options.tls = true;
  auto plain = start_server();
  auto tls = start_server(tls_options);
  asio::thread_pool pool(4);
  {
    Options o = trusting(*tls);
    o.http_version = HttpVersion::http2_prior_knowledge;  // h2c for http://; ALPN h2 for https://
    o.io_threads = 3;
    o.max_streams_per_connection = 2;  // several connections per origin
    o.max_conns_per_origin = 6;
    Client c(pool.get_executor(), o);
    constexpr int requests = 120;
    Completions done(requests);
    std::atomic<int> whole{0};
    std::string first_bad;
    std::mutex bad_mutex;
    for (int i = 0; i < requests; ++i) {
      const std::size_t size = 1000 + static_cast<std::size_t>(i) * 1700;  // up to ~200 KiB: several reads each
      const std::string base = i % 2 ? tls->url() : plain->url();
      c.send_async(Request::get(base + "/bytes/" + std::to_string(size)),
                   [&, size, i, cb = done.callback(static_cast<std::size_t>(i))](Result<Response> r) mutable {
                     bool ok = r && r->body().size() == size;
                     for (std::size_t k = 0; ok && k < size; ++k) ok = r->body()[k] == static_cast<char>('a' + k % 26);
                     if (ok) ++whole;
                     else {
                       std::lock_guard lock(bad_mutex);
                       if (first_bad.empty())
                         first_bad = r ? "request " + std::to_string(i) + ": body of " + std::to_string(r->body().size()) +
                                             " bytes is not the pattern of " + std::to_string(size)
                                       : r.error().message();
                     }
                     cb(std::move(r));
                   });
    }
    ASSERT_TRUE(done.wait(60s)) << done.completed() << " of " << requests << " completed";
    EXPECT_EQ(whole.load(), requests) << first_bad;
    EXPECT_EQ(done.duplicates(), 0u);
  }
  pool.join();
}
