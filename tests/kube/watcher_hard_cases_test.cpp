// The Watcher where the caller or the server is awkward (issue 21 item 6):
// a callback slower than the stream, a watch started at version "0" whose
// first events come in key order, a version the server has not reached yet
// ("too large resource version"), and an error answer to a watch request.
// Each is served by the scripted API server: exact streams, exact answers.
#include "scripted_api.hpp"

#include <rebound/kube/watcher.hpp>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;
using namespace std::chrono_literals;

namespace {

// A watch from `target`'s resourceVersion on a history where lease "a" was
// modified at every version from 11 to `last`: what follows that version.
std::vector<std::string> history_after(const std::string& target, int last) {
  std::vector<std::string> lines;
  for (int v = std::stoi(param(target, "resourceVersion")) + 1; v <= last; ++v)
    lines.push_back(event("MODIFIED", "a", std::to_string(v)));
  return lines;
}

}  // namespace

TEST(WatcherHardCases, ACallbackSlowerThanTheStreamHoldsTheQueueToItsBoundAndTheWatchResumesLosingAndRepeatingNothing) {
  // 2000 events (about 340 KB) arrive while on_event is held on the first
  // of them; the watcher may hold 16 KB of them.
  constexpr int last = 10 + 2000;
  constexpr std::size_t bound = 16 * 1024;
  ScriptedApi api([](const std::string& target, int n) {
    if (n == 0) return list("10", {"a"});
    return stream(history_after(target, last), Reply::End::stall);
  });
  Seen seen;
  auto o = watching(api, seen);
  o.max_queued_bytes = bound;
  const auto record = o.on_event;
  bool held = false;
  o.on_event = [&](const WatchEvent& e) {
    if (!held) {  // held until the server has written (or could not write) the whole first stream
      held = true;
      for (int i = 0; i < 1000 && api.streams_written() == 0; ++i) std::this_thread::sleep_for(10ms);
    }
    record(e);
  };
  Client client;
  Watcher w(client, o);
  w.start();
  ASSERT_TRUE(seen.wait_for(1 + 2000)) << seen.all().size() - 1 << " events delivered";
  w.stop();

  std::vector<std::string> expected{"LIST 10 1"};
  for (int v = 11; v <= last; ++v) expected.push_back("MODIFIED a " + std::to_string(v));
  EXPECT_EQ(seen.all(), expected) << "every version once, in order";
  const auto s = w.stats();
  EXPECT_LE(s.queue_peak_bytes, bound);
  EXPECT_GE(s.overflows, 1u);
  EXPECT_EQ(s.failures, 0u) << "falling behind is not a failure of the server: no backoff";
  EXPECT_EQ(s.lists, 1u) << "an overflow resumes from the last delivered version; it need not list";
  const auto t = api.targets();
  ASSERT_GE(t.size(), 3u);
  const int resumed_from = std::stoi(param(t[2], "resourceVersion"));
  EXPECT_GT(resumed_from, 10);
  EXPECT_LT(resumed_from, last);
}
