// Specification of the pool's credential step (src/pool/origin_pool_credentials.cpp)
// through the fakes: a request whose credential is being fetched belongs to
// its pool like a queued one (DESIGN.md invariant 6: "nothing in limbo") -
// the reaper does not drop the pool under it, shutdown completes it, and a
// late answer after that does nothing.
#include "pool/pool_fixture.hpp"

using namespace rebound;
using namespace rebound::pool;
using namespace rebound::pool::fakes;
using namespace rebound::pool::testing;
using namespace std::chrono_literals;

namespace {

const Credential token{{{"authorization", "Bearer t"}}};
const Credential refreshed{{{"authorization", "Bearer t2"}}};

class PoolCredentialsTest : public PoolTest {
 protected:
  void SetUp() override {
    credentials = std::make_shared<HeldCredentialSource>();
    make_pool("https://origin.test:443");
  }
};

}  // namespace

TEST_F(PoolCredentialsTest, Invariant6_ARequestWaitingForItsCredentialKeepsItsPoolFromBeingReaped) {
  const auto r = send();
  ASSERT_EQ(credentials->held.size(), 1u);
  EXPECT_EQ(pool->counts().authenticating, 1u);
  // Long after any idle timeout: the shard drops a pool whose reap() says "empty".
  clock.advance(10min);
  EXPECT_FALSE(pool->reap(clock.now())) << "the pool calls itself empty while a request waits for its credential\n"
                                        << pool->dump();
  credentials->answer(token);
  settle();
  ASSERT_EQ(connector.in_flight(), 1u);
  connector.succeed(Protocol::http2);
  settle();
  conn(0).respond(200);
  settle();
  ASSERT_TRUE(completed(r));
  ASSERT_TRUE(result(r)) << result(r).error().message();
  EXPECT_EQ(pool->counts().authenticating, 0u);
}

TEST_F(PoolCredentialsTest, Invariant6_ShutdownCompletesARequestWaitingForItsCredentialAndItsLateAnswerDoesNothing) {
  const auto r = send();
  pool->shutdown();
  settle();
  ASSERT_TRUE(completed(r)) << "shutdown did not see the request waiting for its credential";
  EXPECT_EQ(result(r).error().code(), errc::client_shut_down);
  EXPECT_EQ(result(r).error().reached(), progress::not_sent);
  credentials->answer(token);  // the exec plugin finishes after all
  settle();
  EXPECT_EQ(connector.dials.size(), 0u);
  // TearDown: completed exactly once.
}

TEST_F(PoolCredentialsTest, Invariant6_ARequestWaitingForARefreshedCredentialAfterA401IsOwnedByThePool) {
  const auto r = send();
  credentials->answer(token);
  settle();
  connector.succeed(Protocol::http2);
  settle();
  conn(0).respond(401);  // the token was revoked: the source is asked again
  settle();
  ASSERT_EQ(credentials->held.size(), 1u);
  ASSERT_TRUE(credentials->held.front().rejected);
  EXPECT_EQ(pool->counts().authenticating, 1u);
  conn(0).close(Error(errc::connection_closed, "server closed"));  // nothing else left in the pool
  settle();
  clock.advance(10min);
  EXPECT_FALSE(pool->reap(clock.now())) << pool->dump();
  pool->shutdown();
  settle();
  ASSERT_TRUE(completed(r)) << "shutdown did not see the request waiting for a refreshed credential";
  credentials->answer(refreshed);
  settle();
  EXPECT_EQ(connector.dials.size(), 1u) << "a request completed by shutdown was sent again";
}

TEST_F(PoolCredentialsTest, ARequestWhoseDeadlinePassesWhileItsCredentialIsFetchedLeavesThePoolReapable) {
  const auto r = send();
  // Shard::abort at the deadline: no carrier to tell, the exchange completes.
  exchanges[r]->complete(Error(errc::deadline_exceeded, "deadline", progress::not_sent));
  settle();
  EXPECT_EQ(pool->counts().authenticating, 0u);
  EXPECT_TRUE(pool->reap(clock.now())) << pool->dump();
  credentials->answer(token);
  settle();
  EXPECT_EQ(connector.dials.size(), 0u);
}

TEST_F(PoolCredentialsTest, Invariant5_ASourceThatAnswersTwiceDoesNotSendAPostTwice) {
  const auto post = send("POST");
  credentials->answer_twice(token);
  settle();
  connector.succeed(Protocol::http2);
  settle();
  EXPECT_EQ(conn(0).running().size(), 1u) << "the second answer queued the request again";
  conn(0).respond(201);
  settle();
  EXPECT_TRUE(conn(0).running().empty()) << "the POST was sent twice";
  ASSERT_TRUE(completed(post));
  EXPECT_TRUE(result(post));
}

TEST_F(PoolCredentialsTest, ARequestResentAfterA401IsNotSubmittedFromInsideTheConnectionsCallback) {
  credentials->inline_answer = token;  // answers at once: the 401's refresh returns inline
  const auto r = send();
  connector.succeed(Protocol::http2);
  settle();
  credentials->inline_answer = refreshed;
  conn(0).respond(401);
  settle();
  EXPECT_EQ(conn(0).reentrant_submits, 0) << "the resend re-entered the connection from its own callback";
  ASSERT_EQ(conn(0).running().size(), 1u) << "the request was not resent with the refreshed credential";
  conn(0).respond(200);
  settle();
  ASSERT_TRUE(completed(r));
  EXPECT_TRUE(result(r));
}
