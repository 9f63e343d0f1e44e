// Idle reaping end to end (Options::idle_timeout, the shard's reaper that
// looks every second): an HTTP/1.1 connection left idle longer than the
// timeout is closed and the next request dials anew; one busy with a
// response that takes longer than the timeout is not, and its idle time
// starts only when that response ends.
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// The pool stamps request_done just after it restarts the connection's
// idle time: a few microseconds on a loaded machine, far less than this.
constexpr auto kStampSlack = 50ms;

// What the client's event hook saw, with the pool's own timestamps.
struct ReapingLog {
  std::mutex m;
  std::vector<Event> events;
  void hook(Options& o) {
    o.on_event = [this](const Event& e) {
      std::lock_guard lock(m);
      events.push_back(e);
    };
  }
  std::vector<Event> of(EventKind kind) {
    std::lock_guard lock(m);
    std::vector<Event> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
};

}  // namespace

TEST(ClientIdleReaping, AnHttp1ConnectionIdleLongerThanIdleTimeoutIsClosedAndTheNextRequestDialsAnew) {
  auto s = start_server();
  Options o;
  o.idle_timeout = 1500ms;
  ReapingLog log;
  log.hook(o);
  CheckedClient c(o);
  auto first = c.get(s->url() + "/");
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE(eventually([&] { return log.of(EventKind::connection_closed).size() == 1; }, 10s))
      << "an idle connection outlived its idle timeout\n" << c.dump_pools();
  const auto closed = log.of(EventKind::connection_closed).front();
  const auto done = log.of(EventKind::request_done).front();
  EXPECT_GE(closed.time - done.time, o.idle_timeout - kStampSlack) << "closed before it was idle for idle_timeout";
  EXPECT_NE(closed.detail.find("idle timeout"), std::string::npos) << closed.detail;
  auto next = c.get(s->url() + "/");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_NE(next->connection_id(), first->connection_id());
  EXPECT_EQ(c.counters().dials, 2u);
  EXPECT_EQ(s->stats().connections_accepted, 2u);
}

TEST(ClientIdleReaping, AnHttp1ConnectionBusyLongerThanIdleTimeoutIsNotReapedAndItsIdleTimeStartsWhenItsResponseEnds) {
  auto s = start_server();
  Options o;
  o.idle_timeout = 2s;
  ReapingLog log;
  log.hook(o);
  CheckedClient c(o);
  auto slow = c.get(s->url() + "/delay/3500");  // busy through three looks of the reaper
  ASSERT_TRUE(slow) << slow.error().message();  // a busy connection reaped would have failed it
  ASSERT_TRUE(eventually([&] { return log.of(EventKind::connection_closed).size() == 1; }, 10s)) << c.dump_pools();
  const auto closed = log.of(EventKind::connection_closed).front();
  const auto done = log.of(EventKind::request_done).front();
  EXPECT_EQ(closed.connection, slow->connection_id());
  // Measured on the pool's clock: the idle time counts from the response's
  // end, not from when the request was handed to the connection.
  EXPECT_GE(closed.time - done.time, o.idle_timeout - kStampSlack)
      << "reaped " << std::chrono::duration_cast<std::chrono::milliseconds>(closed.time - done.time).count()
      << " ms after its response ended";
  EXPECT_EQ(s->stats().connections_accepted, 1u);
}
