// Library defects the chaos soak found (issue #11 part 3), each reduced to a
// deterministic reproduction that passes only while the defect is there, so
// CI keeps reporting it until src/ is fixed. The soak's CI run names the
// invariant each one breaks (--expect-violation when every run breaks it,
// --known-defect when only some do, by timing). When a fix lands, its test
// here fails: turn it into a regression test asserting the opposite, and
// drop the flag from Soak.SixtySecondsOfEveryFaultBreakNoInvariant.
#include <rebound/proxy/fault_proxy.hpp>
#include <rebound/rebound.hpp>
#include <rebound/server/server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

// Invariant dials_back_off. Two HTTP/1.1 requests wait on an origin whose
// dials fail (nothing listens). Each failed dial finds the other dial still
// in flight - "another way forward" in OriginPool::after_dial_failure - so it
// redials at once instead of counting an attempt and backing off: tens of
// thousands of dials a second until the deadline, and the requests end with
// deadline_exceeded "[not sent]" instead of connection_refused after
// max_attempts. (One request alone gets 4 attempts with backoff, as
// documented.) The same happens while a busy connection remains.
TEST(KnownDefect, Http1RedialsWithoutBackoffWhileTwoRequestsWait) {
  // A bound socket that does not listen: connects to it are refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  rebound::Client client;
  std::promise<void> a, b;
  std::string error;
  client.send_async(rebound::Request::get(url).timeout(1s), [&](auto r) {
    error = r ? "" : r.error().message();
    a.set_value();
  });
  client.send_async(rebound::Request::get(url).timeout(1s), [&](auto) { b.set_value(); });
  ASSERT_EQ(a.get_future().wait_for(10s), std::future_status::ready);
  ASSERT_EQ(b.get_future().wait_for(10s), std::future_status::ready);
  const auto failures = client.counters().dial_failures;
  ::close(fd);
  EXPECT_GT(failures, 1000u) << "fixed? " << failures << " failed dials in 1 s for two requests; last error: "
                             << error;
}

// Invariant no_retry_after_response_started. The response header arrives
// while the response-header timer has also expired (both ready when the
// I/O thread gets to them - here it was busy in another request's callback,
// as under load). The read runs first: the header is parsed and body bytes
// go to the request's body sink; Exchange::mark_response_started() cancels
// the timer, but its expiry is already queued, and the handler
// (Exchange::arm_header_timeout) does not check whether the response
// started: the request is retried, and the sink sees a second body - which
// Request::on_body documents cannot happen. Both protocols.
TEST(KnownDefect, HeaderTimeoutQueuedBehindTheResponseRetriesAfterItStarted) {
  for (const bool tls : {false, true}) {
    rebound::server::ServerOptions so;
    so.tls = tls;  // ALPN: HTTP/2
    rebound::server::Server server(so);
    server.route("/slow", [](const rebound::server::ServerRequest&) {
      rebound::server::ServerResponse r;
      r.body.assign(256 * 1024, 'x');  // more than one read: the body streams over several
      r.delay = 50ms;                  // answered well before the header timeout
      return r;
    });
    server.start();
    rebound::Options o;
    o.tls.verify_peer = false;
    o.response_header_timeout = 100ms;
    rebound::Client client(o);
    ASSERT_TRUE(client.get(server.url() + "/"));  // a connection exists
    auto got = std::make_shared<std::atomic<std::size_t>>(0);
    auto request = rebound::Request::get(server.url() + "/slow");
    request.on_body([got](std::string_view chunk) { *got += chunk.size(); });
    std::promise<rebound::Result<rebound::Response>> done;
    client.send_async(std::move(request), [&](auto r) { done.set_value(std::move(r)); });
    // Keeps the I/O thread busy across the response (50 ms) and the timeout (100 ms).
    client.send_async(rebound::Request::get(server.url() + "/"), [](auto) { std::this_thread::sleep_for(300ms); });
    auto result = done.get_future();
    ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
    const auto r = result.get();
    EXPECT_GT(got->load(), 256u * 1024) << (tls ? "h2" : "h1") << ": fixed? the sink got " << got->load()
                                        << " bytes of a 262144-byte body; "
                                        << (r ? "attempts " + std::to_string(r->attempts()) : r.error().message());
  }
}

// Invariant error_reports_response_started. A deadline that expires while
// the body streams in fails the request with "[sent, no response]" -
// progress::sent, documented as "no response byte seen" - although the
// response had started (here, over a megabyte of it reached the body
// sink). Shard::abort takes the progress from "is there a carrier" alone.
TEST(KnownDefect, DeadlineDuringTheBodySaysNoResponseByteWasSeen) {
  rebound::server::Server server;
  server.start();
  rebound::proxy::ProxyOptions po;
  po.target_port = server.port();
  rebound::proxy::FaultProxy proxy(po);
  proxy.start();
  proxy.set_delay(400ms);  // the body trickles: 256 KiB per 400 ms
  rebound::Client client;
  auto got = std::make_shared<std::atomic<std::size_t>>(0);
  auto request = rebound::Request::get("http://127.0.0.1:" + std::to_string(proxy.port()) + "/bytes/4000000");
  request.timeout(2500ms).on_body([got](std::string_view chunk) { *got += chunk.size(); });
  const auto r = client.send(std::move(request));
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error(), rebound::errc::deadline_exceeded) << r.error().message();
  ASSERT_GT(got->load(), 0u) << "the body never started: the reproduction did not set up";
  EXPECT_NE(r.error().reached(), rebound::progress::response_started)
      << "fixed? " << got->load() << " body bytes arrived and the error says: " << r.error().message();
}

}  // namespace
