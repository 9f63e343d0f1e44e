// The origin pool's test fixture: a pool over the fakes (manual clock,
// fake connector and connections, optionally a held credential source),
// requests sent and their results recorded, and at teardown the check that
// every request completed exactly once (invariant 4) before the pool is
// shut down. Shared by the pool's
// test files; each names the invariant or retry-table row it pins.
#pragma once

#include "pool/fakes.hpp"
#include "pool/origin_pool.hpp"

#include "inflight/completion_queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace rebound::pool::testing {

using namespace std::chrono_literals;
using fakes::FakeConnection;
using fakes::FakeConnector;
using fakes::ManualClock;

class PoolTest : public ::testing::Test {
 private:
  // First, so they outlive the exchanges below: an exchange never completed
  // (what TearDown reports) completes from its destructor through them.
  boost::asio::io_context io_;
  inflight::CompletionQueue completions_{io_.get_executor()};

 protected:
  void make_pool(const std::string& origin) {
    services_.executor = io_.get_executor();
    services_.options = &options;
    services_.connector = &connector;
    services_.clock = &clock;
    services_.next_connection_id = [this] { return ++connection_ids_; };
    services_.emit = [this](const Event& e) { events.push_back(e); };
    if (credentials) {
      services_.credentials = credentials;
      // The shard's gate, open for the whole test: answers run as handlers.
      services_.post_from_any_thread = [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); };
    }
    pool = std::make_shared<OriginPool>(services_, *parse_url(origin));
    url_ = std::make_shared<const Url>(*parse_url(origin + "/path"));
  }

  /// Submits a request; returns its index in results().
  std::size_t send(std::string method = "GET", bool wait_for_ready = false) {
    const std::size_t i = exchanges.size();
    auto ex = std::make_shared<inflight::Exchange>(
        io_.get_executor(), completions_, Request(std::move(method), url_->str()), url_,
        clock.now() + deadline, wait_for_ready,  // the deadline on the pool's clock
        inflight::Completion(std::in_place_index<0>, [this, i](Result<Response> r) {
          ++completion_counts[i];
          results[i].emplace(std::move(r));
        }));
    exchanges.push_back(ex);
    pool->submit(std::move(ex));
    settle();
    return i;
  }

  /// Runs whatever the pool deferred (pumps, completions).
  void settle() {
    io_.poll();
    io_.restart();
  }
  void advance(inflight::Clock::duration d) {
    clock.advance(d);
    settle();
  }

  bool completed(std::size_t i) { return results.count(i) > 0; }
  const Result<Response>& result(std::size_t i) { return *results.at(i); }
  FakeConnection& conn(std::size_t i) { return *connector.connections.at(i); }

  Options options;
  /// How long each request sent from now on has before its deadline.
  inflight::Clock::duration deadline = 1h;
  /// Set before make_pool() to give the origin credentials.
  std::shared_ptr<fakes::HeldCredentialSource> credentials;
  ManualClock clock;
  FakeConnector connector{clock};
  std::shared_ptr<OriginPool> pool;
  std::vector<std::shared_ptr<inflight::Exchange>> exchanges;
  std::map<std::size_t, std::optional<Result<Response>>> results;
  std::map<std::size_t, int> completion_counts;
  std::vector<Event> events;

  /// For a test whose specification ends with requests still running or
  /// queued (on a connection it never answers, behind a dial it never
  /// finishes or busy connections): checks that each is where something
  /// will serve it - running on a connection, or queued while a dial is in
  /// flight or every slot is taken, not stranded - and then ends them by
  /// shutting the pool down (each completes with client_shut_down).
  void end_with_requests_in_flight() {
    settle();
    std::vector<std::size_t> pending, stranded;
    for (std::size_t i = 0; i < exchanges.size(); ++i) {
      if (completion_counts[i] != 0) continue;
      pending.push_back(i);
      if (running_on_a_connection(*exchanges[i])) continue;
      const bool served_later = pool->counts().dialing > 0 || pool->slots_in_use() >= options.max_conns_per_origin;
      if (!served_later) stranded.push_back(i);
    }
    EXPECT_FALSE(pending.empty()) << "every request completed: the test should not say it leaves some in flight";
    EXPECT_TRUE(stranded.empty()) << stranded.size() << " requests queued with nothing to serve them, the first "
                                  << stranded.front() << "\n" << pool->dump();
    pool->shutdown();
    settle();
  }

  void TearDown() override {
    settle();
    // Invariant 4 over every request the test sent: once, never zero, never
    // twice - counted before the pool is shut down, which would complete a
    // request stranded in a queue and hide it.
    expect_each_completed_once("before shutdown");
    pool->shutdown();
    settle();
    expect_each_completed_once("after shutdown");
    EXPECT_EQ(completions_.dropped(), 0u);
  }

 private:
  void expect_each_completed_once(const char* when) {
    std::ostringstream wrong;
    std::size_t n = 0;
    for (std::size_t i = 0; i < exchanges.size(); ++i)
      if (completion_counts[i] != 1 && n++ < 10)
        wrong << "\n  request " << i << " completed " << completion_counts[i] << " times";
    EXPECT_EQ(n, 0u) << n << " requests not completed exactly once " << when << ":" << wrong.str() << "\n"
                     << pool->dump();
  }

  bool running_on_a_connection(const inflight::Exchange& ex) const {
    for (const auto& c : connector.connections)
      for (const auto& running : c->running())
        if (running.get() == &ex) return true;
    return false;
  }

  PoolServices services_;
  std::shared_ptr<const Url> url_;
  std::uint64_t connection_ids_ = 0;
};


}  // namespace rebound::pool::testing
