// A persisted store's reads do not wait for its writes' fsyncs: a GET while a
// write is being made durable is answered at once from what the store last
// committed, and the write shows only once it is durable. Writes stay one at
// a time. (A write held inside its fsync through the test seam: a slow disk.)
#include "lease/lease_api_fixture.hpp"

#include "lease/sync_seam.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;

namespace {

class LeaseReadsDuringWrites : public LeaseFileTest {
 protected:
  // A PUT straight into the store, on a thread of its own (no server thread
  // is taken up by the write held in its fsync).
  std::future<server::ServerResponse> put_in_background(std::string body) {
    return std::async(std::launch::async, [store = store_, path = item, body = std::move(body)] {
      server::ServerRequest r;
      r.method = "PUT";
      r.path = path;
      r.target = path;
      r.body = body;
      return store->handle(r);
    });
  }

  // A GET over HTTP that must be answered within `deadline`.
  std::optional<Answer> get_within(const std::string& path, std::chrono::milliseconds deadline) {
    auto res = client_->send(Request::get(server_->url() + path).timeout(deadline));
    if (!res) return std::nullopt;
    Answer a;
    a.status = res->status();
    a.body = boost::json::parse(res->body());
    return a;
  }
};

}  // namespace

TEST_F(LeaseReadsDuringWrites, AGetIsAnsweredWhileAWritesFsyncIsInProgress) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  ASSERT_EQ(created.status, 201);
  HeldSync held;
  SyncSeam seam(held.function());
  auto write = put_in_background(lease_body("lock", "b", rv_of(created)));
  HeldSync::ReleaseOnExit release_on_exit{held};
  ASSERT_TRUE(held.wait_entered(5s)) << "the write never reached its fsync";

  // The write is not durable yet: readers see the committed lease, at once.
  const auto got = get_within(item, 1s);
  ASSERT_TRUE(got) << "a GET waited for another write's fsync";
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, created.body);
  const auto list = get_within(coll, 1s);
  ASSERT_TRUE(list) << "a LIST waited for another write's fsync";
  EXPECT_EQ(list->body.at("items").at(0), created.body);
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "a");

  held.release();
  const auto answer = write.get();
  EXPECT_EQ(answer.status, 200) << answer.body;
  const auto after = call("GET", item);
  EXPECT_EQ(after.body.at("spec").at("holderIdentity"), "b");
  EXPECT_NE(rv_of(after), rv_of(created));
}

// A second write based on the same version waits for the first to be
// durable, then meets the version it made: 409, exactly one winner.
TEST_F(LeaseReadsDuringWrites, WritesStayOneAtATimeWhileOneIsBeingMadeDurable) {
  const auto created = call("POST", coll, lease_body("lock", "a"));
  ASSERT_EQ(created.status, 201);
  HeldSync held;
  SyncSeam seam(held.function());
  auto first = put_in_background(lease_body("lock", "b", rv_of(created)));
  HeldSync::ReleaseOnExit release_first{held};
  ASSERT_TRUE(held.wait_entered(5s));
  auto second = put_in_background(lease_body("lock", "c", rv_of(created)));
  HeldSync::ReleaseOnExit release_second{held};
  EXPECT_EQ(second.wait_for(300ms), std::future_status::timeout) << "a write ran beside one being made durable";

  held.release();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(second.get().status, 409);
  EXPECT_EQ(store_->get("default", "lock")->spec.holder_identity, "b");
  EXPECT_EQ(store_->holder_changes("default", "lock"), 2u) << describe_history(*store_);
}
