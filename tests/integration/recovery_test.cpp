// Recovery: the failure in ORIGIN.md must be impossible. Real processes,
// real kills, real GOAWAYs; every test checks that each request completed
// exactly once, before its deadline, and that nothing non-idempotent reached
// the server twice.
#include "integration/child_server.hpp"
#include "integration/fixtures.hpp"

#include <rebound/proxy/fault_proxy.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <semaphore>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Outcome {
  Clock::time_point start, end;
  bool ok = false;
  std::string error;
};

// Polls `url` every `period` from a background thread, like a controller
// renewing its lease, recording each outcome.
class Poller {
 public:
  Poller(Client& c, std::string url, std::chrono::milliseconds period, std::chrono::milliseconds timeout)
      : thread_([this, &c, url, period, timeout] {
          while (!stop_) {
            Outcome o;
            o.start = Clock::now();
            auto r = c.send(Request::get(url).timeout(timeout));
            o.end = Clock::now();
            o.ok = r && r->status() == 200;
            if (!r) o.error = r.error().message();
            {
              std::lock_guard lock(mutex_);
              outcomes_.push_back(o);
            }
            std::this_thread::sleep_for(period);
          }
        }) {}
  ~Poller() { finish(); }
  std::vector<Outcome> finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Outcome> outcomes_;
  std::thread thread_;
};

}  // namespace

TEST(Recovery, TheIncidentServerKilledAndRestartedFiveTimesNeverStrandsTheClient) {
  ChildServer server({"--tls", "--port", "0"});
  Options o;
  o.tls.verify_peer = false;
  CheckedClient c(o);
  Poller poller(c, server.url() + "/", 50ms, 2s);
  std::vector<Clock::time_point> back_up;
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(300ms);
    server.kill();
    std::this_thread::sleep_for(200ms);
    server.restart_same_port();  // returns once it listens
    back_up.push_back(Clock::now());
  }
  std::this_thread::sleep_for(300ms);
  const auto outcomes = poller.finish();
  // A request caught by a kill now rides it out on redials (up to ~350 ms of
  // backoff) instead of failing at once, so the poller makes fewer requests.
  ASSERT_GE(outcomes.size(), 10u);
  // Requests started while the server is up: from its restart until 100 ms
  // before the next kill (at up + 300 ms), so that a request started just
  // before a kill is not counted (under ASan it reached the port a few ms
  // after the next kill and was refused, correctly).
  int failures_after_restart = 0, started_after_restart = 0;
  for (const auto& up : back_up)
    for (const auto& out : outcomes) {
      if (out.start >= up && out.start < up + 200ms) ++started_after_restart;
      if (out.start >= up && out.start < up + 200ms && !out.ok) {
        ++failures_after_restart;
        ADD_FAILURE() << "request started "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(out.start - up).count()
                      << " ms after the server was back failed: " << out.error;
      }
    }
  EXPECT_GE(started_after_restart, 3) << "too few requests started while the server was up to prove anything";
  EXPECT_EQ(failures_after_restart, 0);
  EXPECT_TRUE(outcomes.back().ok);
}

TEST(Recovery, GracefulStopLetsInFlightRequestsFinishAndTheNextOnesSucceed) {
  server::ServerOptions so;
  so.tls = true;
  auto s = start_server(so);
  CheckedClient c(trusting(*s));
  ASSERT_TRUE(c.get(s->url() + "/"));
  std::vector<std::future<Result<Response>>> in_flight;
  for (int i = 0; i < 10; ++i) {
    auto p = std::make_shared<std::promise<Result<Response>>>();
    in_flight.push_back(p->get_future());
    c.send_async(Request::get(s->url() + "/delay/300"), [p](Result<Response> r) { p->set_value(std::move(r)); });
  }
  std::this_thread::sleep_for(100ms);
  s->stop(2s);  // GOAWAY, then waits for the in-flight requests
  for (auto& f : in_flight) {
    auto r = f.get();
    EXPECT_TRUE(r) << r.error().message();
  }
  s->restart();
  auto after = c.get(s->url() + "/");
  EXPECT_TRUE(after) << after.error().message();
}

TEST(Recovery, WaitForReadyRidesOutAnOutageShorterThanTheDeadline) {
  server::ServerOptions so;
  so.tls = true;
  auto s = start_server(so);
  Options o = trusting(*s);
  o.wait_for_ready = true;
  CheckedClient c(o);
  ASSERT_TRUE(c.get(s->url() + "/"));
  s->kill();
  std::vector<std::future<Result<Response>>> during;
  for (int i = 0; i < 5; ++i) {
    auto p = std::make_shared<std::promise<Result<Response>>>();
    during.push_back(p->get_future());
    c.send_async(Request::get(s->url() + "/").timeout(5s), [p](Result<Response> r) { p->set_value(std::move(r)); });
  }
  std::this_thread::sleep_for(500ms);
  s->restart();
  for (auto& f : during) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    EXPECT_TRUE(r) << r.error().message();
  }
}

TEST(Recovery, WithoutWaitForReadyAnOutageFailsFastWithTheDialError) {
  auto s = start_server();
  CheckedClient c;
  ASSERT_TRUE(c.get(s->url() + "/"));
  s->kill();
  const auto t0 = Clock::now();
  auto r = c.get(s->url() + "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::connection_refused) << r.error().message();
  EXPECT_LT(elapsed_since(t0), 1s);
  s->restart();
  auto back = c.get(s->url() + "/");  // no backoff left over holds it back
  EXPECT_TRUE(back) << back.error().message();
}

TEST(Recovery, GoawayBelowInFlightStreamsRetriesTheExcludedOnesWhateverTheirMethod) {
  server::ServerOptions so;
  so.tls = true;
  auto s = start_server(so);
  Options o = trusting(*s);
  o.max_conns_per_origin = 1;
  CheckedClient c(o);
  ASSERT_TRUE(c.get(s->url() + "/"));  // stream 1
  std::vector<std::future<Result<Response>>> posts;
  for (int i = 0; i < 6; ++i) {  // streams 3, 5, ..., 13
    auto p = std::make_shared<std::promise<Result<Response>>>();
    posts.push_back(p->get_future());
    c.send_async(Request::post(s->url() + "/delay/300", "x"), [p](Result<Response> r) { p->set_value(std::move(r)); });
  }
  std::this_thread::sleep_for(100ms);
  s->send_goaway(7);  // streams 9, 11, 13 were not processed
  int retried = 0;
  for (auto& f : posts) {
    auto r = f.get();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 200);
    if (r->attempts() > 1) ++retried;
  }
  EXPECT_EQ(retried, 3);
}

TEST(Recovery, ResetAfterAPostWasWrittenIsNotResentButAGetIsRetried) {
  for (const bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "HTTP/2" : "HTTP/1.1");
    server::ServerOptions so;
    so.tls = true;
    so.http2 = h2;
    auto s = start_server(so);
    CheckedClient c(trusting(*s));
    ASSERT_TRUE(c.get(s->url() + "/"));
    s->reset_stats();
    s->drop_next_requests(1);
    auto post = c.send(Request::post(s->url() + "/echo", "pay once"));
    ASSERT_FALSE(post);
    EXPECT_EQ(post.error().code(), errc::connection_lost_after_send) << post.error().message();
    EXPECT_EQ(post.error().reached(), progress::sent);
    EXPECT_NE(post.error().message().find("may have processed"), std::string::npos);
    EXPECT_EQ(s->stats().requests_by_method["POST"], 1u);

    s->drop_next_requests(1);
    auto get = c.get(s->url() + "/bytes/3");
    ASSERT_TRUE(get) << get.error().message();
    EXPECT_EQ(get->attempts(), 2);
    EXPECT_EQ(s->stats().requests_by_method["GET"], 2u);
  }
}

TEST(Recovery, ThousandRequestsWhileTheServerRestartsEveryHalfSecond) {
  const auto fds_before = open_fds();
  server::ServerOptions so;
  so.tls = true;
  auto s = start_server(so);
  {
    Options o = trusting(*s);
    o.wait_for_ready = true;
    o.max_attempts = 10;
    o.retry_budget_min_per_second = 100;
    CheckedClient c(o);
    std::atomic<bool> stop{false};
    std::thread chaos([&] {
      const auto until = Clock::now() + 10s;
      while (!stop && Clock::now() < until) {
        std::this_thread::sleep_for(400ms);
        s->kill();
        std::this_thread::sleep_for(100ms);
        s->restart();
      }
    });
    std::atomic<int> ok{0}, failed{0}, completions{0};
    std::counting_semaphore<100> slots(100);
    std::vector<std::string> errors;
    std::mutex errors_mutex;
    for (int i = 0; i < 1000; ++i) {
      slots.acquire();
      c.send_async(Request::get(s->url() + "/delay/20").timeout(8s), [&](Result<Response> r) {
        ++completions;
        if (r) ++ok;
        else {
          ++failed;
          std::lock_guard lock(errors_mutex);
          errors.push_back(r.error().message());
        }
        slots.release();
      });
      std::this_thread::sleep_for(8ms);
    }
    for (int i = 0; i < 100; ++i) slots.acquire();
    stop = true;
    chaos.join();
    EXPECT_EQ(completions.load(), 1000);
    EXPECT_EQ(ok.load(), 1000) << (errors.empty() ? "" : errors.front());
  }
  s.reset();
  EXPECT_EQ(open_fds(), fds_before);
}

namespace {

// An h2/TLS server reached through a fault proxy, so a test can kill the
// path to it silently (no FIN, no RST) while the server stays up.
struct SilentPath {
  SilentPath() : server(start_server([] {
                   server::ServerOptions so;
                   so.tls = true;
                   return so;
                 }())),
                 proxy([this] {
                   proxy::ProxyOptions po;
                   po.target_port = server->port();
                   return po;
                 }()) {
    proxy.start();
  }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(proxy.port()) + path;
  }
  Options options(std::chrono::milliseconds idle, std::chrono::milliseconds ping) const {
    Options o = trusting(*server);
    o.read_idle_timeout = idle;
    o.ping_timeout = ping;
    return o;
  }
  std::unique_ptr<server::Server> server;
  proxy::FaultProxy proxy;
};

}  // namespace

TEST(Recovery, SilentlyDeadConnectionIsFoundByPingAndRequestsSucceedWithinThreeSeconds) {
  SilentPath path;
  Options o = path.options(1s, 1s);
  std::atomic<int> pings{0}, health_closures{0};
  o.on_event = [&](const Event& e) {
    if (e.kind == EventKind::ping_sent) ++pings;
    if (e.kind == EventKind::connection_closed && e.error == errc::health_check_failed) ++health_closures;
  };
  CheckedClient c(o);
  auto first = c.get(path.url("/"));
  ASSERT_TRUE(first) << first.error().message();
  path.proxy.blackhole_current();  // the path dies without a FIN or RST
  const auto t0 = Clock::now();
  auto after = c.send(Request::get(path.url("/")).timeout(10s));
  const auto took = elapsed_since(t0);
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_NE(after->connection_id(), first->connection_id());
  EXPECT_EQ(after->attempts(), 2);
  EXPECT_LT(took, 3s);
  EXPECT_GE(pings.load(), 1);
  EXPECT_EQ(health_closures.load(), 1);
}

TEST(Recovery, SilentlyDeadConnectionFailsAPostWithoutResendingIt) {
  SilentPath path;
  CheckedClient c(path.options(500ms, 500ms));
  ASSERT_TRUE(c.get(path.url("/")));
  path.proxy.blackhole_current();
  auto post = c.send(Request::post(path.url("/echo"), "once").timeout(10s));
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().code(), errc::health_check_failed) << post.error().message();
  EXPECT_EQ(post.error().reached(), progress::sent);
  EXPECT_EQ(post.error().attempts(), 1);
  // The dead path swallowed it, and it was not resent on a new connection.
  EXPECT_EQ(path.server->stats().requests_by_method["POST"], 0u);
}
