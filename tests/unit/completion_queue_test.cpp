// inflight::CompletionQueue: completions run later (never inside push), in the
// order they finished, in slices that let other queued handlers run between.
#include "inflight/completion_queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace rebound::inflight {
namespace {

Result<Response> ok(int status) {
  Response r;
  r.status(status);
  return r;
}

Completion recording(std::vector<std::string>& log) {
  return Completion(std::in_place_index<0>, [&log](Result<Response> r) {
    log.push_back("done " + std::to_string(r ? r->status() : -1));
  });
}

TEST(CompletionQueue, NothingRunsInsidePush) {
  asio::io_context io;
  CompletionQueue q(io.get_executor());
  std::vector<std::string> log;
  q.push(recording(log), ok(200));
  EXPECT_TRUE(log.empty());
  io.run();
  EXPECT_EQ(log, std::vector<std::string>{"done 200"});
}

TEST(CompletionQueue, RunsEveryCompletionInTheOrderTheyFinished) {
  asio::io_context io;
  CompletionQueue q(io.get_executor());
  std::vector<std::string> log, expected;
  for (int i = 0; i < 100; ++i) {
    q.push(recording(log), ok(i));
    expected.push_back("done " + std::to_string(i));
  }
  io.run();
  EXPECT_EQ(log, expected);
}

TEST(CompletionQueue, HandlersQueuedMeanwhileRunBetweenSlices) {
  // What a connection's flush does: queued after the first completions, it
  // must run before all 100 have, so their requests leave early.
  asio::io_context io;
  CompletionQueue q(io.get_executor());
  std::vector<std::string> log;
  for (int i = 0; i < 100; ++i) q.push(recording(log), ok(i));
  asio::post(io, [&log] { log.push_back("flush"); });
  io.run();
  ASSERT_EQ(log.size(), 101u);
  const auto flush_at = std::find(log.begin(), log.end(), "flush") - log.begin();
  EXPECT_GT(flush_at, 0);
  EXPECT_LT(flush_at, 100) << "the other handler waited for every completion";
}

TEST(CompletionQueue, ACompletionThatFinishesAnotherQueuesItAfterTheRest) {
  asio::io_context io;
  CompletionQueue q(io.get_executor());
  std::vector<std::string> log;
  q.push(Completion(std::in_place_index<0>,
                    [&](Result<Response>) {
                      log.push_back("first");
                      q.push(recording(log), ok(3));  // e.g. a cancel from inside a callback
                    }),
         ok(1));
  q.push(recording(log), ok(2));
  io.run();
  EXPECT_EQ(log, (std::vector<std::string>{"first", "done 2", "done 3"}));
}

}  // namespace
}  // namespace rebound::inflight
