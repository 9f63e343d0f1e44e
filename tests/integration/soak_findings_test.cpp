// Defects the chaos soak (`rebound soak`, issue #11) found, each pinned by a
// deterministic reproduction: before the fix each of these failed.
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"

#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {
class SoakFindings : public FaultTest {};
}  // namespace

// Each failed dial found the other dial in flight ("another way forward")
// and redialed at once: tens of thousands of dials a second, and requests
// that ended on their deadline instead of the dial error.
TEST_F(SoakFindings, TwoHttp1RequestsOnARefusingOriginRedialWithBackoffAndFailWithTheDialError) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // bound, not listening: refused
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  {
    CheckedClient c;
    std::promise<Result<Response>> a, b;
    c.send_async(Request::get(url).timeout(10s), [&](Result<Response> r) { a.set_value(std::move(r)); });
    c.send_async(Request::get(url).timeout(10s), [&](Result<Response> r) { b.set_value(std::move(r)); });
    for (auto* p : {&a, &b}) {
      auto f = p->get_future();
      ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
      auto r = f.get();
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code(), errc::connection_refused) << r.error().message();
      EXPECT_GE(r.error().attempts(), Options{}.max_attempts) << r.error().message();
    }
    // At most one redial per 25 ms for the first 2 s of refusals (uncharged),
    // then max_attempts charged ones with backoff; per HTTP/1.1 dial.
    EXPECT_LE(c.counters().dial_failures, 2u * (2000 / 25 + 1 + static_cast<unsigned>(Options{}.max_attempts)))
        << "redials without backoff";
  }
  ::close(fd);
}

// The header arrives while the header timer's expiry is already queued (the
// I/O thread was busy in a callback): the expiry retried a request whose
// response had started, and its body sink saw a second body.
TEST_F(SoakFindings, AHeaderTimeoutQueuedBehindTheResponseNeverRetriesIt) {
  for (const bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "HTTP/2" : "HTTP/1.1");
    server::ServerOptions so;
    so.tls = tls;
    auto s = start_server(so);
    s->route("/slow", [](const server::ServerRequest&) {
      server::ServerResponse r;
      r.body.assign(256 * 1024, 'x');  // more than one read
      r.delay = 50ms;                  // well before the header timeout
      return r;
    });
    Options o = trusting(*s);
    o.response_header_timeout = 100ms;
    std::promise<Result<Response>> done;
    CheckedClient c(o);
    ASSERT_TRUE(c.get(s->url() + "/"));
    auto got = std::make_shared<std::atomic<std::size_t>>(0);
    auto request = Request::get(s->url() + "/slow");
    request.on_body([got](std::string_view chunk) { *got += chunk.size(); });
    c.send_async(std::move(request), [&](Result<Response> r) { done.set_value(std::move(r)); });
    // Holds the I/O thread across the response (50 ms) and the timeout (100 ms).
    c.send_async(Request::get(s->url() + "/"), [](Result<Response>) { std::this_thread::sleep_for(300ms); });
    auto f = done.get_future();
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->attempts(), 1);
    EXPECT_EQ(got->load(), 256u * 1024) << "the body sink saw more than one body";
  }
}

// A deadline during the body said "[sent, no response]": the error must say
// the response had started.
TEST_F(SoakFindings, ADeadlineDuringTheBodySaysTheResponseHadStarted) {
  auto s = start_server();
  proxy::ProxyOptions po;
  po.target_port = s->port();
  proxy::FaultProxy slow(po);
  slow.start();
  slow.set_delay(400ms);  // the body trickles
  CheckedClient c;
  auto got = std::make_shared<std::atomic<std::size_t>>(0);
  auto request = Request::get("http://127.0.0.1:" + std::to_string(slow.port()) + "/bytes/4000000");
  request.timeout(2500ms).on_body([got](std::string_view chunk) { *got += chunk.size(); });
  auto r = c.send(std::move(request));
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().code(), errc::deadline_exceeded) << r.error().message();
  ASSERT_GT(got->load(), 0u) << "the body never started: the reproduction did not set up";
  EXPECT_EQ(r.error().reached(), progress::response_started) << r.error().message();
}

// The response-header timer of a failed attempt was not stopped: while the
// request rested after a second refusal, the stale expiry queued it a second
// time - a GET refused twice then ran twice at once on the server, and a
// POST failed with response_header_timeout though it was only refused.
TEST_F(SoakFindings, AFailedAttemptsHeaderTimerNeverActsWhileTheRequestWaits) {
  for (const bool post : {false, true}) {
    SCOPED_TRACE(post ? "POST" : "GET");
    auto s = start_server();  // h2c
    s->refuse_streams(true);
    Options o;
    o.http_version = HttpVersion::http2_prior_knowledge;
    o.response_header_timeout = 50ms;
    o.backoff_base = 400ms;  // refused a second time, the request rests 200-400 ms
    std::atomic<int> starts{0}, retries{0};
    o.on_event = [&](const Event& e) {
      if (e.kind == EventKind::request_start) ++starts;
      // Refused twice, the request rests 200-400 ms; its second attempt's
      // header timer, were it left running, fires 50 ms into the rest. The
      // server serves the third attempt.
      if (e.kind == EventKind::retry && ++retries == 2) s->refuse_streams(false);
    };
    CheckedClient c(o);
    auto r = c.send(post ? Request::post(s->url() + "/echo", "x") : Request::get(s->url() + "/status/200"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->attempts(), 3) << "refused, refused, then served";
    EXPECT_TRUE(eventually([&] { return starts.load() == 3; }, 2s));
    std::this_thread::sleep_for(300ms);  // a second copy, were there one, would have run by now
    EXPECT_EQ(s->stats().requests, 1u) << "the request ran more than once";
    EXPECT_EQ(starts.load(), 3) << "attempts overlapped";
  }
}
