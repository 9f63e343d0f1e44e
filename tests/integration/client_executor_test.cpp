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
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <dirent.h>

#include <atomic>
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

}  // namespace

TEST(ClientOnCallersExecutor, CompletesOnTheCallersThreadWithoutAThreadOfItsOwn) {
  auto s = start_server();
  asio::io_context io(1);
  const auto before = threads_in_process();
  auto c = std::make_unique<Client>(io.get_executor());
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
  {
    Client c(io.get_executor());
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
}

TEST(ClientOnCallersExecutor, DestroyedFromItsOwnCompletionDoesNotDeadlock) {
  auto s = start_server();
  asio::io_context io(1);
  auto c = std::make_unique<Client>(io.get_executor());
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
