// inflight::DeadlineQueue, every request deadline of a shard on one timer:
// each linked exchange expires once, in deadline order and never before
// its deadline; one removed (it completed) or destroyed never expires; an
// earlier deadline added later re-arms the timer for it; after stop()
// nothing expires; the queue may go before the exchanges it still links.
#include "inflight/completion_queue.hpp"
#include "inflight/deadline_queue.hpp"

#include <rebound/url.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace rebound;
using namespace rebound::inflight;
using namespace std::chrono_literals;

namespace {

class DeadlineQueueTest : public ::testing::Test {
 protected:
  // An exchange named `name` whose deadline is `in` from now.
  std::shared_ptr<Exchange> exchange(const std::string& name, Clock::duration in) {
    auto url = std::make_shared<const Url>(parse_url("http://deadline.test/").value());
    auto ex = std::make_shared<Exchange>(io_.get_executor(), completions_, Request::get("http://deadline.test/"), url,
                                         Clock::now() + in, false, std::function<void(Result<Response>)>([](auto) {}));
    names_[ex.get()] = name;
    return ex;
  }

  // Runs the I/O until nothing is left to wait for (at most `limit`).
  void run(Clock::duration limit = 3s) {
    io_.restart();
    io_.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(limit));
  }

  struct Expiry {
    std::string name;
    Clock::time_point at, deadline;
  };

  asio::io_context io_;
  CompletionQueue completions_{io_.get_executor()};
  std::map<const Exchange*, std::string> names_;
  std::vector<Expiry> expired_;
  std::unique_ptr<DeadlineQueue> queue_ = std::make_unique<DeadlineQueue>(
      io_.get_executor(), [this](Exchange& ex) { expired_.push_back({names_[&ex], Clock::now(), ex.deadline()}); });

  std::vector<std::string> expired_names() const {
    std::vector<std::string> out;
    for (const auto& e : expired_) out.push_back(e.name);
    return out;
  }
};

}  // namespace

TEST_F(DeadlineQueueTest, ExpiresEachExchangeOnceInDeadlineOrderAndNeverBeforeItsDeadline) {
  auto c = exchange("c", 150ms), a = exchange("a", 50ms), b = exchange("b", 100ms), d = exchange("d", 100ms);
  for (auto* ex : {c.get(), a.get(), b.get(), d.get()}) queue_->add(*ex);
  run();
  EXPECT_EQ(expired_names(), (std::vector<std::string>{"a", "b", "d", "c"}));
  for (const auto& e : expired_) EXPECT_GE(e.at, e.deadline) << e.name << " expired early";
}

TEST_F(DeadlineQueueTest, AnExchangeRemovedOrDestroyedBeforeItsDeadlineNeverExpires) {
  auto a = exchange("a", 50ms), b = exchange("b", 80ms), c = exchange("c", 120ms);
  for (auto* ex : {a.get(), b.get(), c.get()}) queue_->add(*ex);
  queue_->remove(*a);  // completed
  b.reset();           // gone: it unlinks itself
  queue_->remove(*a);  // a second remove is a no-op
  run();
  EXPECT_EQ(expired_names(), (std::vector<std::string>{"c"}));
}

TEST_F(DeadlineQueueTest, AnEarlierDeadlineAddedLaterIsNotKeptWaitingForTheArmedOne) {
  auto late = exchange("late", 2s), early = exchange("early", 50ms);
  queue_->add(*late);
  const auto start = Clock::now();
  queue_->add(*early);
  io_.restart();
  io_.run_for(500ms);
  ASSERT_EQ(expired_names(), (std::vector<std::string>{"early"}));
  EXPECT_LT(expired_.front().at - start, 400ms);
  queue_->remove(*late);
}

TEST_F(DeadlineQueueTest, AddingAnExchangeAgainMovesItToItsDeadlineOnce) {
  auto a = exchange("a", 50ms);
  queue_->add(*a);
  queue_->add(*a);
  run();
  EXPECT_EQ(expired_names(), (std::vector<std::string>{"a"}));
}

TEST_F(DeadlineQueueTest, NothingExpiresAfterStop) {
  auto a = exchange("a", 30ms);
  queue_->add(*a);
  queue_->stop();
  io_.restart();
  io_.run_for(200ms);
  EXPECT_TRUE(expired_.empty());
}

TEST_F(DeadlineQueueTest, TheQueueMayGoBeforeTheExchangesItLinks) {
  auto a = exchange("a", 1s), b = exchange("b", 2s);
  queue_->add(*a);
  queue_->add(*b);
  queue_.reset();  // unlinks both; their destructors then find nothing to unlink
  a.reset();
  b.reset();
  SUCCEED();  // ASan (the asan preset) reports a use after free here if either still pointed at the queue
}
