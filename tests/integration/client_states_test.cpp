// States and retry-table rows that only a real fault reaches: a draining
// connection finishing its stream beside a new one, a response cut or
// killed mid-body (both protocols), several dial slots, a resendable POST
// after a dropped request, a POST after a failed dial, and an HTTP/1.1
// connection found closed before any byte of the request was written.
#include "integration/child_server.hpp"
#include "integration/completions.hpp"
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"
#include "integration/request_log.hpp"
#include "support/raw_server.hpp"

#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

server::ServerOptions tls_server(bool h2 = true) {
  server::ServerOptions so;
  so.tls = true;
  so.http2 = h2;
  return so;
}

}  // namespace

class ClientStates : public FaultTest {};

TEST_F(ClientStates, Invariant1_ADrainingConnectionFinishesItsStreamWhileANewRequestGoesToANewConnection) {
  auto s = start_server(tls_server());
  Options o = trusting(*s);
  std::promise<void> goaway_seen;
  std::atomic<bool> once{false};
  o.on_event = [&](const Event& e) {
    if (e.kind == EventKind::goaway && !once.exchange(true)) goaway_seen.set_value();
  };
  std::promise<Result<Response>> slow;
  CheckedClient c(o);
  auto first = c.get(s->url() + "/");
  ASSERT_TRUE(first) << first.error().message();

  c.send_async(Request::get(s->url() + "/delay/1500"), [&](Result<Response> r) { slow.set_value(std::move(r)); });
  auto slow_result = slow.get_future();
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/1500"] == 1; }));
  s->send_goaway();  // last-stream-id: the running stream, which the server will finish
  ASSERT_EQ(goaway_seen.get_future().wait_for(20s), std::future_status::ready);

  auto fresh = c.get(s->url() + "/");
  ASSERT_TRUE(fresh) << fresh.error().message();
  EXPECT_NE(fresh->connection_id(), first->connection_id()) << "a draining connection was handed a request";
  EXPECT_EQ(slow_result.wait_for(0s), std::future_status::timeout) << "the new request completed first";

  ASSERT_EQ(slow_result.wait_for(20s), std::future_status::ready);
  auto r = slow_result.get();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->connection_id(), first->connection_id()) << "the old stream finished where it started";
  EXPECT_EQ(r->attempts(), 1);
  EXPECT_EQ(s->stats().requests_by_path["/delay/1500"], 1u);
}

TEST_F(ClientStates, RetryTable_AResponseCutMidBodyByTheNetworkIsTruncatedAfterOneAttempt) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    const auto fds_before = open_fds();
    {
      auto s = start_server(tls_server(h2));
      proxy::FaultProxy cut({"127.0.0.1", 0, "127.0.0.1", s->port()});
      cut.start();
      cut.cut_after_bytes(200'000);  // well past the handshake and the headers, far short of the body
      CheckedClient c(trusting(*s));
      auto r = c.get("https://127.0.0.1:" + std::to_string(cut.port()) + "/bytes/4000000");
      ASSERT_FALSE(r) << "a cut body came back as a response";
      EXPECT_EQ(r.error().code(), errc::truncated_response) << r.error().message();
      EXPECT_EQ(r.error().reached(), progress::response_started);
      EXPECT_EQ(r.error().attempts(), 1) << "retried after the response had started";
      EXPECT_EQ(s->stats().requests_by_path["/bytes/4000000"], 1u);
    }
    EXPECT_TRUE(eventually([&] { return open_fds() <= fds_before; })) << open_fds() << " fds, " << fds_before << " before";
  }
}

TEST_F(ClientStates, RetryTable_AServerKilledMidBodyLeavesATruncatedResponseAfterOneAttempt) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    TempLog log("rebound-requests");
    const auto fds_before = open_fds();
    {
      std::vector<std::string> args{"--tls", "--port", "0", "--request-log", log.path()};
      if (!h2) args.push_back("--http1.1");
      ChildServer server(args);
      Options o;
      o.tls.verify_peer = false;
      std::promise<void> body_started;
      std::atomic<bool> once{false};
      std::promise<Result<Response>> done;
      CheckedClient c(o);
      auto request = Request::get(server.url() + "/bytes/200000000").timeout(30s).on_body([&](std::string_view) {
        if (!once.exchange(true)) body_started.set_value();
      });
      c.send_async(std::move(request), [&](Result<Response> r) { done.set_value(std::move(r)); });
      ASSERT_EQ(body_started.get_future().wait_for(20s), std::future_status::ready);
      server.kill();  // SIGKILL, mid-body
      auto f = done.get_future();
      ASSERT_EQ(f.wait_for(40s), std::future_status::ready) << c.dump_pools();
      auto r = f.get();
      ASSERT_FALSE(r) << "a killed server's partial body came back as a response";
      EXPECT_EQ(r.error().code(), errc::truncated_response) << r.error().message();
      EXPECT_EQ(r.error().reached(), progress::response_started);
      EXPECT_EQ(r.error().attempts(), 1);
      EXPECT_EQ(runs_of_target(log.path(), "/bytes/200000000"), 1) << "the server ran it once";
    }
    EXPECT_TRUE(eventually([&] { return open_fds() <= fds_before; })) << open_fds() << " fds, " << fds_before << " before";
  }
}

TEST_F(ClientStates, Invariant3_FourDialSlotsOfTenStreamsServeAHundredRequestsWithExactlyFourDials) {
  auto so = tls_server();
  so.max_concurrent_streams = 10;
  auto s = start_server(so);
  Options o = trusting(*s);
  o.max_conns_per_origin = 4;
  CheckedClient c(o);
  Completions done(100);
  for (std::size_t i = 0; i < done.size(); ++i) c.send_async(Request::get(s->url() + "/delay/300"), done.callback(i));
  ASSERT_TRUE(done.wait(60s)) << done.completed() << " of 100\n" << c.dump_pools();
  for (std::size_t i = 0; i < done.size(); ++i)
    EXPECT_TRUE(done.result(i)) << "request " << i << ": " << done.result(i).error().message();
  EXPECT_EQ(c.counters().dials, 4u);
  EXPECT_EQ(s->stats().connections_accepted, 4u);
  EXPECT_EQ(s->stats().requests, 100u);
}

TEST_F(ClientStates, RetryTable_APostWithAnIdempotencyKeyIsResentAfterItsConnectionWasDropped) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    auto s = start_server(tls_server(h2));
    CheckedClient c(trusting(*s));
    ASSERT_TRUE(c.get(s->url() + "/"));
    s->reset_stats();
    s->drop_next_requests(1);
    auto r = c.send(Request::post(s->url() + "/echo", "charge 1").header("Idempotency-Key", "order-42"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->attempts(), 2);
    EXPECT_EQ(s->stats().requests_by_method["POST"], 2u) << "dropped once, then served: the key makes that safe";
  }
}

TEST_F(ClientStates, RetryTable_APostWhoseDialFailedIsSentOnceTheServerListens) {
  const auto port = unused_port();
  server::ServerOptions so;
  so.port = port;
  server::Server s(so);  // not started: the first dial is refused
  Options o;
  o.backoff_base = 200ms;  // time for the hook's start() before the redial
  std::atomic<bool> started{false};
  o.on_event = [&](const Event& e) {
    if (e.kind == EventKind::dial_failed && !started.exchange(true)) s.start();
  };
  CheckedClient c(o);
  auto r = c.send(Request::post("http://127.0.0.1:" + std::to_string(port) + "/echo", "once").timeout(20s));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_GE(r->attempts(), 2);
  EXPECT_EQ(s.stats().requests_by_method["POST"], 1u);
}

TEST_F(ClientStates, RetryTable_AnHttp1ConnectionFoundClosedBeforeAnyRequestByteIsRetriedEvenForAPost) {
  std::promise<void> reset_now, reset_done;
  auto reset_now_f = reset_now.get_future().share();
  std::atomic<int> posts_seen{0};
  RawServer server([&](RawConnection& conn, int index) {
    if (index == 0) {
      conn.read_until("\r\n\r\n");
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      reset_now_f.wait_for(20s);
      conn.reset();  // the kernel now answers anything on it with RST
      reset_done.set_value();
      return;
    }
    const auto head = conn.read_until("\r\n\r\n");
    if (head.rfind("POST", 0) == 0) ++posts_seen;
    conn.read_exactly(4);  // "once"
    conn.write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    conn.read_some(2s);
  });
  std::promise<Result<Response>> post;
  CheckedClient c;
  // From the GET's completion callback (the I/O thread, which then cannot
  // notice the RST first), the POST goes straight onto the reset connection.
  c.send_async(Request::get(server.url("/")), [&](Result<Response> r) {
    if (!r) {
      post.set_value(std::move(r));
      return;
    }
    reset_now.set_value();
    reset_done.get_future().wait_for(20s);
    c.send_async(Request::post(server.url("/"), "once"), [&](Result<Response> p) { post.set_value(std::move(p)); });
  });
  auto f = post.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready) << c.dump_pools();
  auto r = f.get();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 201);
  EXPECT_EQ(r->attempts(), 2) << "the first attempt was on the reset connection";
  EXPECT_EQ(posts_seen.load(), 1);
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_TRUE(server.errors().empty());
}

TEST_F(ClientStates, AClosingConnectionHandsBackItsLastRequestBeforeItReportsTheClose) {
  // The order the pool relies on: a closed connection never reports again,
  // so every attempt on it is handed back first - a response that came
  // with "Connection: close", and a body cut by the close.
  struct Case {
    const char* name;
    const char* answer;
    bool succeeds;
  };
  for (const Case& k : {Case{"answered, then closed", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true},
                        Case{"cut mid-body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", false}}) {
    SCOPED_TRACE(k.name);
    RawServer server([&](RawConnection& conn, int) {
      conn.read_until("\r\n\r\n");
      conn.write(k.answer);
      conn.close();
    });
    std::mutex mutex;
    std::vector<std::string> order;
    Options o;
    o.on_event = [&](const Event& e) {
      if (e.kind != EventKind::request_done && e.kind != EventKind::connection_closed) return;
      std::lock_guard lock(mutex);
      order.push_back(to_string(e.kind));
    };
    CheckedClient c(o);
    auto r = c.get(server.url("/"));
    EXPECT_EQ(static_cast<bool>(r), k.succeeds) << (r ? "" : r.error().message());
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mutex);
      return order.size() == 2;
    }));
    std::lock_guard lock(mutex);
    EXPECT_EQ(order, (std::vector<std::string>{"request_done", "connection_closed"}));
  }
}
