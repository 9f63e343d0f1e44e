// Cancelling a request wherever it waits, and waiting for readiness up to
// the deadline. A request cancelled while queued behind a busy connection,
// while its connection is being dialed, or while it rests between refused
// dials fails at once with errc::cancelled, "not sent", and the server
// never sees it; a request told to wait for readiness ends at its deadline
// (not later) when the origin never comes up.
#include "integration/checked_client.hpp"
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <future>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Sends `request` on `c` and cancels it once `ready()` holds; the result
// and how long the cancel took to complete it.
struct Cancelled {
  Result<Response> result;
  std::chrono::milliseconds after_cancel{0};
};

template <class Ready>
Cancelled send_then_cancel(Client& c, Request request, Ready ready) {
  Cancellation cancel;
  auto done = std::make_shared<std::promise<Result<Response>>>();
  auto future = done->get_future();
  c.send_async(std::move(request).cancellation(cancel), [done](Result<Response> r) { done->set_value(std::move(r)); });
  EXPECT_TRUE(eventually(ready, 10s)) << "the request never reached the state to cancel it in";
  const auto t0 = std::chrono::steady_clock::now();
  cancel.cancel();
  EXPECT_EQ(future.wait_for(5s), std::future_status::ready) << "a cancelled request did not complete";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  return {future.get(), took};
}

void expect_cancelled_unsent(const Cancelled& c) {
  ASSERT_FALSE(c.result) << "status " << c.result->status();
  EXPECT_EQ(c.result.error().code(), errc::cancelled) << c.result.error().message();
  EXPECT_EQ(c.result.error().reached(), progress::not_sent) << c.result.error().message();
  EXPECT_LT(c.after_cancel, 250ms + CheckedClient::grace);
}

}  // namespace

TEST(ClientCancel, ARequestQueuedBehindABusyConnectionIsCancelledWithoutReachingTheServer) {
  auto s = start_server();
  Options o;
  o.max_conns_per_origin = 1;
  o.http_version = HttpVersion::http1_only;
  CheckedClient c(o);
  auto busy = std::async(std::launch::async, [&] { return c.get(s->url() + "/delay/1500"); });
  ASSERT_TRUE(eventually([&] { return s->stats().requests_by_path["/delay/1500"] == 1; }));
  const auto queued = send_then_cancel(c, Request::get(s->url() + "/queued"), [] { return true; });
  expect_cancelled_unsent(queued);
  const auto first = busy.get();
  EXPECT_TRUE(first) << first.error().message();
  EXPECT_EQ(s->stats().requests_by_path["/queued"], 0u);
  EXPECT_TRUE(c.get(s->url() + "/")) << "the connection is usable after the cancel";
}

TEST(ClientCancel, ARequestWaitingForItsConnectionsHandshakeIsCancelledAtOnce) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});  // never accepts: TLS hangs
  CheckedClient c;
  const auto t0 = std::chrono::steady_clock::now();
  const auto dialing = send_then_cancel(
      c, Request::get("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/"),
      [&] { return std::chrono::steady_clock::now() - t0 > 300ms && c.counters().dials >= 1; });
  expect_cancelled_unsent(dialing);
}

TEST(ClientCancel, ARequestRestingBetweenRefusedDialsIsCancelledAtOnce) {
  Options o;
  o.wait_for_ready = true;  // rests and redials instead of failing on the refusal
  CheckedClient c(o);
  const auto url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
  const auto resting = send_then_cancel(c, Request::get(url).timeout(10s), [&] { return c.counters().dials >= 2; });
  expect_cancelled_unsent(resting);
}

TEST(ClientCancel, WaitingForReadinessEndsAtTheDeadlineWhenTheOriginNeverComesUp) {
  Options o;
  o.wait_for_ready = true;
  CheckedClient c(o);
  const auto url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/";
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = c.send(Request::get(url).timeout(800ms));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_TRUE(is_timeout(r.error().code())) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::not_sent);
  EXPECT_GE(took, 800ms) << "gave up before its deadline: " << r.error().message();
  EXPECT_LT(took, 800ms + CheckedClient::grace) << r.error().message();
  EXPECT_GE(c.counters().dials, 2u) << "waited without redialing";
}
