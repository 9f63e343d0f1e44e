// Dial failures go through the retry rules: they fail only requests that
// have no other way forward, count as attempts, respect max_attempts and
// back off between redials; an HTTP/1.1 origin dials in parallel.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST(ClientDial, ARefusedDialIsRedialedFastForTwoSecondsThenWithBackoffUpToMaxAttemptsForAnyMethod) {
  // A GET and a POST wait together: a refused dial never reached a server,
  // so the method does not matter, and one redial serves both.
  const auto port = unused_port();
  Options o;
  o.max_attempts = 3;
  o.backoff_base = 40ms;
  CheckedClient c(o);
  std::promise<Result<Response>> get, post;
  const auto url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const auto t0 = std::chrono::steady_clock::now();
  c.send_async(Request::get(url).timeout(10s), [&](Result<Response> r) { get.set_value(std::move(r)); });
  c.send_async(Request::post(url, "x").timeout(10s), [&](Result<Response> r) { post.set_value(std::move(r)); });
  for (auto* p : {&get, &post}) {
    auto f = p->get_future();
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::connection_refused) << r.error().message();
    EXPECT_GE(r.error().attempts(), 2000 / 50 + 3) << r.error().message();
  }
  const auto took = elapsed_since(t0);
  // 2 s of redials 25-50 ms apart, then two after backoffs of at least 20
  // and 40 ms (full jitter keeps half).
  EXPECT_GE(took, 2060ms);
  EXPECT_LT(took, 6s);
  // HTTP/1.1 dials one connection per waiting request: two per redial.
  EXPECT_GE(c.counters().dials, 2 * (2000u / 50 + 3));
  EXPECT_LE(c.counters().dials, 2 * (2000u / 25 + 1 + 3)) << "redialed faster than every 25 ms";
}

TEST(ClientDial, AFailedDialDoesNotFailRequestsABusyHealthyConnectionWillServe) {
  // A server that accepts exactly one connection, then closes its listener:
  // every later dial is refused, while the first connection stays healthy.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::atomic<int> served{0};
  std::atomic<bool> accepted{false}, second_dial_refused{false};
  std::thread server([&] {
    asio::ip::tcp::socket sock(io);
    acceptor.accept(sock);
    acceptor.close();
    accepted = true;
    asio::streambuf in;
    boost::system::error_code ec;
    while (!ec) {
      asio::read_until(sock, in, "\r\n\r\n", ec);
      if (ec) break;
      in.consume(in.size());
      // Busy until the second request's dial was refused.
      if (served == 0) eventually([&] { return second_dial_refused.load(); }, 10s);
      // Counted before the answer leaves: the client may check before this thread runs again.
      ++served;
      asio::write(sock, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")), ec);
    }
  });
  {
    Options o;
    o.max_conns_per_origin = 2;
    o.on_event = [&](const Event& e) {
      if (e.kind == EventKind::dial_failed) second_dial_refused = true;
    };
    CheckedClient c(o);
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    Completions done(2);
    c.send_async(Request::get(url), done.callback(0));
    EXPECT_TRUE(eventually([&] { return accepted.load(); }));  // the first is on the one connection
    c.send_async(Request::post(url, "x"), done.callback(1));
    ASSERT_TRUE(done.wait(10s)) << c.dump_pools();
    for (std::size_t i = 0; i < 2; ++i) EXPECT_TRUE(done.result(i)) << i << ": " << done.result(i).error().message();
    EXPECT_GE(c.counters().dial_failures, 1u) << "the test's premise: the second dial was refused";
    EXPECT_EQ(served.load(), 2);
  }
  server.join();
}

TEST(ClientDial, AnHttp1OriginDialsUpToMaxConnsInParallel) {
  auto s = start_server();
  std::mutex mutex;
  int in_flight = 0, most = 0;
  Options o;
  o.max_conns_per_origin = 4;
  o.on_event = [&](const Event& e) {
    std::lock_guard lock(mutex);
    if (e.origin != s->url()) return;
    if (e.kind == EventKind::dial_start) most = std::max(most, ++in_flight);
    if (e.kind == EventKind::dial_done || e.kind == EventKind::dial_failed) --in_flight;
  };
  CheckedClient c(o);
  Completions done(4);
  // Sent together from a completion callback (on the I/O thread, where they
  // start at once), so no dial can finish before the last request is queued.
  auto other = start_server();
  Completions first(1);
  c.send_async(Request::get(other->url() + "/"), [&, record = first.callback(0)](Result<Response> r) {
    for (std::size_t i = 0; i < 4; ++i) c.send_async(Request::get(s->url() + "/delay/200"), done.callback(i));
    record(std::move(r));
  });
  ASSERT_TRUE(first.wait(20s));
  ASSERT_TRUE(done.wait(20s)) << c.dump_pools();
  EXPECT_EQ(done.succeeded(), 4u);
  EXPECT_EQ(c.counters().dials, 5u) << "one for the other origin, four for this one";
  std::lock_guard lock(mutex);
  EXPECT_EQ(most, 4) << "dials in flight at once";
}
