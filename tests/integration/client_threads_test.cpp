// Several I/O threads: an origin is served by one thread, so the limits
// Options calls "per origin" (connections, queue, dial coalescing, retry
// budget) hold for the whole Client whatever io_threads is.
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <set>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

class ClientThreads : public ::testing::TestWithParam<unsigned> {};

TEST_P(ClientThreads, MaxConnsPerOriginHoldsForTheWholeClient) {
  auto s = start_server();
  Options o;
  o.io_threads = GetParam();
  o.max_conns_per_origin = 2;
  CheckedClient c(o);
  constexpr std::size_t n = 16;
  Completions done(n);
  for (std::size_t i = 0; i < n; ++i) c.send_async(Request::get(s->url() + "/delay/50"), done.callback(i));
  ASSERT_TRUE(done.wait(20s)) << c.dump_pools();
  EXPECT_EQ(done.succeeded(), n);
  EXPECT_EQ(s->stats().connections_accepted, 2u) << "HTTP/1.1 connections opened with io_threads " << GetParam();
  EXPECT_EQ(c.counters().dials, 2u);
}

TEST_P(ClientThreads, HundredFirstRequestsToAnHttp2OriginCauseOneDial) {
  auto s = start_server();
  Options o;
  o.io_threads = GetParam();
  o.http_version = HttpVersion::http2_prior_knowledge;
  CheckedClient c(o);
  constexpr std::size_t n = 100;
  Completions done(n);
  for (std::size_t i = 0; i < n; ++i) c.send_async(Request::get(s->url() + "/"), done.callback(i));
  ASSERT_TRUE(done.wait(20s)) << c.dump_pools();
  EXPECT_EQ(done.succeeded(), n);
  EXPECT_EQ(c.counters().dials, 1u);
  EXPECT_EQ(s->stats().connections_accepted, 1u);
}

TEST_P(ClientThreads, TheQueueLimitHoldsForTheWholeClient) {
  auto s = start_server();
  Options o;
  o.io_threads = GetParam();
  o.max_conns_per_origin = 1;
  o.max_queued_per_origin = 4;
  CheckedClient c(o);
  constexpr std::size_t n = 12;
  Completions done(n);
  // One at a time from this thread, so they reach the pool in order.
  for (std::size_t i = 0; i < n; ++i) c.send_async(Request::get(s->url() + "/delay/300"), done.callback(i));
  ASSERT_TRUE(done.wait(20s)) << c.dump_pools();
  std::size_t queue_full = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (!done.result(i) && done.result(i).error().code() == errc::queue_full) ++queue_full;
  // At most 4 wait (one more may be on the connection or its dial).
  EXPECT_GE(queue_full, n - 5) << "requests accepted beyond the per-origin queue with io_threads " << GetParam();
  EXPECT_LE(queue_full, n - 4);
}

TEST_P(ClientThreads, OriginsAreSpreadAcrossTheThreads) {
  std::vector<std::unique_ptr<server::Server>> servers;
  for (int i = 0; i < 4; ++i) servers.push_back(start_server());
  Options o;
  o.io_threads = GetParam();
  std::mutex mutex;
  std::set<std::thread::id> threads;
  CheckedClient c(o);
  Completions done(servers.size());
  for (std::size_t i = 0; i < servers.size(); ++i)
    c.send_async(Request::get(servers[i]->url() + "/"), [&, cb = done.callback(i)](Result<Response> r) {
      {
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
      }
      cb(std::move(r));
    });
  ASSERT_TRUE(done.wait(10s));
  EXPECT_EQ(done.succeeded(), servers.size());
  EXPECT_EQ(threads.size(), std::min<std::size_t>(GetParam(), servers.size()));
}

INSTANTIATE_TEST_SUITE_P(IoThreads, ClientThreads, ::testing::Values(1u, 2u, 4u),
                         [](const auto& info) { return std::to_string(info.param) + "Threads"; });

TEST(ClientThreads, DumpPoolsFromCallbacksOnTwoShardsAtOnceDoesNotDeadlock) {
  // Two origins live on two I/O threads. Each request's callback waits for
  // the other's, then dumps the pools: each shard's thread would wait for
  // the other's to answer, and neither can while it waits.
  auto a = start_server(), b = start_server();
  Options o;
  o.io_threads = 2;
  CheckedClient c(o);
  std::atomic<int> inside{0};
  std::vector<std::promise<std::string>> dumps(2);
  auto callback = [&](int i) {
    return [&, i](Result<Response>) {
      ++inside;
      while (inside.load() < 2) std::this_thread::yield();
      dumps[i].set_value(c.dump_pools());
    };
  };
  auto fa = dumps[0].get_future(), fb = dumps[1].get_future();
  c.send_async(Request::get(a->url() + "/"), callback(0));
  c.send_async(Request::get(b->url() + "/"), callback(1));
  ASSERT_EQ(fa.wait_for(10s), std::future_status::ready) << "dump_pools deadlocked";
  ASSERT_EQ(fb.wait_for(10s), std::future_status::ready) << "dump_pools deadlocked";
  EXPECT_NE(fa.get().find(a->url()), std::string::npos) << "the caller's own shard is always dumped";
  EXPECT_NE(fb.get().find(b->url()), std::string::npos);
  EXPECT_NE(c.dump_pools().find(b->url()), std::string::npos) << "from outside, every shard is dumped";
}

namespace {

// The count dump_pools() reports of origins the Client has placed on an
// I/O thread; nullopt when the dump does not say.
std::optional<std::size_t> origins_placed(const Client& c) {
  const std::string dump = c.dump_pools();
  const std::string label = "origins placed on I/O threads: ";
  const auto at = dump.find(label);
  if (at == std::string::npos) return std::nullopt;
  return std::stoul(dump.substr(at + label.size()));
}

}  // namespace

TEST(ClientThreads, AnOriginIsForgottenOnceItsPoolIsReapedSoACrawlerDoesNotGrowWithoutBound) {
  // A crawler or a multi-tenant proxy meets origins without end. Each is
  // placed on one I/O thread (so its limits hold for the whole Client);
  // that placement must go when the origin's pool does, or the Client
  // keeps an entry per origin it ever met.
  Options o;
  o.io_threads = 2;
  CheckedClient c(o);
  std::set<std::uint16_t> ports;
  while (ports.size() < 30) ports.insert(unused_port());
  Completions done(ports.size());
  std::size_t i = 0;
  for (const auto port : ports)
    c.send_async(Request::get("http://127.0.0.1:" + std::to_string(port) + "/").retry_policy(RetryPolicy::never),
                 done.callback(i++));
  ASSERT_TRUE(done.wait(10s)) << done.completed() << " of " << ports.size() << " completed";
  for (std::size_t k = 0; k < ports.size(); ++k) {
    ASSERT_FALSE(done.result(k));
    EXPECT_EQ(done.result(k).error().code(), errc::connection_refused) << done.result(k).error().message();
  }
  ASSERT_TRUE(eventually([&] { return origins_placed(c) == std::size_t{0}; }, 10s))
      << "origins still placed after their pools were reaped: " << origins_placed(c).value_or(9999) << "\n"
      << c.dump_pools();
  // A forgotten origin met again is placed again, and served.
  auto s = start_server();
  auto r = c.get(s->url() + "/");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(origins_placed(c), std::size_t{1});
}
