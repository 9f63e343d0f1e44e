// The client over HTTP/1.1 (TCP and TLS) against the embedded server:
// verification, refusals, deadlines, keep-alive reuse and its failures.
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

TEST(ClientH1, GetsEachBuiltInRouteOverTcp) {
  auto s = start_server();
  CheckedClient c;
  auto r = c.get(s->url() + "/bytes/100");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->body().size(), 100u);
  EXPECT_EQ(r->protocol(), Protocol::http1);
  auto st = c.get(s->url() + "/status/418");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status(), 418);
}

TEST(ClientH1, PostsABodyAndGetsItEchoed) {
  auto s = start_server();
  CheckedClient c;
  auto r = c.send(Request::post(s->url() + "/echo", "hello body", "text/plain").header("X-Test", "yes"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->body().find("hello body"), std::string::npos) << r->body();
  EXPECT_NE(r->body().find("POST"), std::string::npos);
  EXPECT_NE(r->body().find("yes"), std::string::npos);
}

TEST(ClientH1, ReusesTheKeepAliveConnection) {
  auto s = start_server();
  Options o;
  o.http_version = HttpVersion::http1_only;
  CheckedClient c(o);
  auto a = c.get(s->url() + "/");
  auto b = c.get(s->url() + "/");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->connection_id(), b->connection_id());
  EXPECT_FALSE(a->reused_connection());
  EXPECT_TRUE(b->reused_connection());
  EXPECT_EQ(s->stats().connections_accepted, 1u);
}

TEST(ClientH1, SelfSignedCertificateIsRejectedByDefault) {
  server::ServerOptions so;
  so.tls = true;
  auto s = start_server(so);
  CheckedClient c;
  auto r = c.get(s->url() + "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::certificate_verify_failed) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::not_sent);
}

TEST(ClientH1, TrustedCertificateWorksAndInsecureSkipsVerification) {
  server::ServerOptions so;
  so.tls = true;
  so.http2 = false;
  auto s = start_server(so);
  CheckedClient trusted(trusting(*s));
  auto r = trusted.get(s->url() + "/bytes/10");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body().size(), 10u);
  Options insecure;
  insecure.tls.verify_peer = false;
  CheckedClient c(insecure);
  EXPECT_TRUE(c.get(s->url() + "/"));
}

TEST(ClientH1, HostNameMismatchIsRejected) {
  // The certificate names 127.0.0.1 and localhost; the server listens on 127.0.0.2.
  server::ServerOptions so;
  so.tls = true;
  so.host = "127.0.0.2";
  auto s = start_server(so);
  CheckedClient c(trusting(*s));
  auto r = c.get("https://127.0.0.2:" + std::to_string(s->port()) + "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::certificate_verify_failed) << r.error().message();
}

TEST(ClientH1, ConnectionRefusedIsReportedAfterTwoSecondsOfFastRedialsAndTheChargedAttempts) {
  // Nothing listens: a restarting server looks the same, so the request
  // waits 2 s redialing every 25-50 ms, then spends max_attempts (4) with
  // backoff (25-50, 50-100, 100-200 ms), and says so.
  CheckedClient c;
  const auto port = unused_port();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.get("http://127.0.0.1:" + std::to_string(port) + "/");
  const auto took = elapsed_since(t0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::connection_refused) << r.error().message();
  EXPECT_TRUE(is_connection_failure(r.error().code()));
  EXPECT_GE(r.error().attempts(), 2000 / 50 + 4) << r.error().message();
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 5s);
  EXPECT_NE(r.error().message().find(std::to_string(port)), std::string::npos) << r.error().message();
}

TEST(ClientH1, DeadlineIsRespectedOnASlowResponse) {
  auto s = start_server();
  CheckedClient c;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.send(Request::get(s->url() + "/delay/3000").timeout(300ms));
  const auto took = elapsed_since(t0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::deadline_exceeded) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::sent);
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 2000ms);
}

TEST(ClientH1, ServerClosingIdleKeepAliveDoesNotFailTheNextGet) {
  server::ServerOptions so;
  so.h1_idle_timeout = 100ms;
  auto s = start_server(so);
  Options o;
  std::atomic<int> closed{0};
  o.on_event = [&](const Event& e) {
    if (e.kind == EventKind::connection_closed) ++closed;
  };
  CheckedClient c(o);
  auto a = c.get(s->url() + "/");
  ASSERT_TRUE(a) << a.error().message();
  // The server closes the idle connection, and the client notices by itself.
  ASSERT_TRUE(eventually([&] { return closed.load() == 1; }));
  auto b = c.get(s->url() + "/");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_NE(a->connection_id(), b->connection_id());
  EXPECT_EQ(b->attempts(), 1);  // the dead connection had already left the pool
}

TEST(ClientH1, TwoHundredConcurrentRequestsFromEightThreadsCompleteExactlyOnce) {
  auto s = start_server();
  Options o;
  o.http_version = HttpVersion::http1_only;
  CheckedClient c(o);
  std::atomic<int> ok{0}, failed{0}, completions{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      std::vector<std::promise<void>> done(25);
      for (int i = 0; i < 25; ++i) {
        c.send_async(Request::get(s->url() + "/bytes/64"), [&, p = &done[i]](Result<Response> r) {
          ++completions;
          (r && r->status() == 200 && r->body().size() == 64 ? ok : failed)++;
          p->set_value();  // a second completion would throw promise_already_satisfied
        });
      }
      for (auto& d : done)
        if (d.get_future().wait_for(60s) != std::future_status::ready) {
          ADD_FAILURE() << "a request never completed\n" << c.dump_pools();
          std::abort();  // its callback would touch this frame later
        }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(completions.load(), 200);
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(s->stats().requests, 200u);
  EXPECT_LE(s->stats().connections_accepted, o.max_conns_per_origin);
}

TEST(ClientH1, InvalidUrlFailsBeforeAnyIo) {
  CheckedClient c;
  auto r = c.get("http://host:99999/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::invalid_url);
  EXPECT_EQ(c.counters().dials, 0u);
}

TEST(ClientH1, ResponseOnAConnectionTheServerClosesIsStillDelivered) {
  // Regression: closing the connection after the last response detached it
  // from the pool before the response was handed over, losing it.
  auto s = start_server();
  CheckedClient c;
  auto r = c.send(Request::get(s->url() + "/bytes/8").header("Connection", "close").timeout(2s));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body().size(), 8u);
  auto next = c.get(s->url() + "/");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_NE(next->connection_id(), r->connection_id());
}

TEST(ClientH1, ResponseHeaderTimeoutRetriesAGetButNotAPost) {
  auto s = start_server();
  Options o;
  o.response_header_timeout = 150ms;
  o.max_attempts = 2;
  CheckedClient c(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto get = c.send(Request::get(s->url() + "/delay/2000").timeout(5s));
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code(), errc::response_header_timeout) << get.error().message();
  EXPECT_EQ(get.error().attempts(), 2);
  EXPECT_LT(elapsed_since(t0), 1500ms);
  auto post = c.send(Request::post(s->url() + "/delay/2000", "x").timeout(5s));
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().code(), errc::response_header_timeout);
  EXPECT_EQ(post.error().attempts(), 1);
  EXPECT_EQ(s->stats().requests_by_method["POST"], 1u);
}

TEST(ClientH1, ConnectionClosedBeforeAnyResponseByteIsAFailureNotAnEmptyResponse) {
  // Regression: EOF with no response byte was parsed as an empty "200".
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::thread closer([&] {
    for (int i = 0; i < 4; ++i) {  // every attempt: read the request, close without answering
      auto sock = acceptor.accept();
      char buf[4096];
      sock.read_some(boost::asio::buffer(buf));
      sock.shutdown(boost::asio::ip::tcp::socket::shutdown_both);
    }
  });
  Options o;
  o.max_attempts = 2;
  CheckedClient c(o);
  auto get = c.send(Request::get("http://127.0.0.1:" + std::to_string(port) + "/").timeout(3s));
  auto post = c.send(Request::post("http://127.0.0.1:" + std::to_string(port) + "/", "x").timeout(3s));
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code(), errc::connection_lost_after_send) << get.error().message();
  EXPECT_EQ(get.error().attempts(), 2);  // idempotent: retried once
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().code(), errc::connection_lost_after_send);
  EXPECT_EQ(post.error().attempts(), 1);  // not resent
  // The fourth accept is never reached: unblock the helper thread.
  boost::asio::ip::tcp::socket poke(io);
  poke.connect(acceptor.local_endpoint());
  poke.write_some(boost::asio::buffer("x", 1));
  closer.join();
}
