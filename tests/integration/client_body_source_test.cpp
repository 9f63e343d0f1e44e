// Streamed request bodies (Request::body_source) over both protocols: the
// server gets every byte (chunked, or with a declared length), a body that
// does not match its declared length is refused, and a body that was read
// is never sent twice - the retry table's "replayable body" condition.
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

server::ServerOptions tls_server(bool h2) {
  server::ServerOptions so;
  so.tls = true;
  so.http2 = h2;
  return so;
}

/// A source yielding `chunks` chunks of `size` bytes ('a', 'b', ...), then the end.
Request::BodySource counting_source(int chunks, std::size_t size, std::shared_ptr<int> calls = nullptr) {
  auto next = std::make_shared<int>(0);
  return [=] {
    if (calls) ++*calls;
    if (*next == chunks) return std::string();
    return std::string(size, static_cast<char>('a' + (*next)++ % 26));
  };
}

std::string expected_body(int chunks, std::size_t size) {
  std::string all;
  for (int i = 0; i < chunks; ++i) all += std::string(size, static_cast<char>('a' + i % 26));
  return all;
}

class ClientBodySource : public FaultTest, public ::testing::WithParamInterface<bool> {};

}  // namespace

TEST_P(ClientBodySource, AStreamedBodyArrivesWholeWithOrWithoutADeclaredLength) {
  auto s = start_server(tls_server(GetParam()));
  CheckedClient c(trusting(*s));
  for (const bool declared : {false, true}) {
    SCOPED_TRACE(declared ? "content-length" : "no length");
    const std::size_t total = 40 * 100'000;
    auto r = c.send(Request("POST", s->url() + "/echo")
                        .body_source(counting_source(40, 100'000),
                                     declared ? std::optional<std::uint64_t>(total) : std::nullopt));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 200);
    // /echo answers with the request line, the headers, then the body.
    const std::string want = expected_body(40, 100'000);
    EXPECT_TRUE(r->body().ends_with("\n\n" + want)) << r->body().size() << " bytes back for " << want.size();
  }
}

TEST_P(ClientBodySource, ABodyThatBreaksItsDeclaredLengthFailsAsAnInvalidRequest) {
  auto s = start_server(tls_server(GetParam()));
  CheckedClient c(trusting(*s));
  for (const std::uint64_t declared : {std::uint64_t{100}, std::uint64_t{1'000'000}}) {
    SCOPED_TRACE(declared);
    auto r = c.send(Request("POST", s->url() + "/echo").body_source(counting_source(5, 1000), declared));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::invalid_request) << r.error().message();
    EXPECT_EQ(r.error().attempts(), 1);
  }
  auto after = c.get(s->url() + "/");  // the client is fine afterwards
  EXPECT_TRUE(after) << after.error().message();
  EXPECT_EQ(s->stats().requests_by_method["POST"], 0u);
}

TEST_P(ClientBodySource, RetryTable_AStreamedBodyIsNotResentAfterItsRequestWasLostEvenWithAnIdempotencyKey) {
  auto s = start_server(tls_server(GetParam()));
  CheckedClient c(trusting(*s));
  ASSERT_TRUE(c.get(s->url() + "/"));
  // The same request with its body in memory is resent: the key allows it.
  s->drop_next_requests(1);
  auto in_memory = c.send(Request::post(s->url() + "/echo", expected_body(3, 1000)).header("Idempotency-Key", "k1"));
  ASSERT_TRUE(in_memory) << in_memory.error().message();
  EXPECT_EQ(in_memory->attempts(), 2);
  s->reset_stats();
  // Streamed, it cannot be: the source was read and its bytes are gone.
  s->drop_next_requests(1);
  auto calls = std::make_shared<int>(0);
  auto streamed = c.send(Request("POST", s->url() + "/echo")
                             .header("Idempotency-Key", "k2")
                             .body_source(counting_source(3, 1000, calls)));
  ASSERT_FALSE(streamed);
  EXPECT_EQ(streamed.error().code(), errc::connection_lost_after_send) << streamed.error().message();
  EXPECT_EQ(streamed.error().attempts(), 1);
  EXPECT_NE(streamed.error().message().find("streamed body"), std::string::npos) << streamed.error().message();
  EXPECT_EQ(*calls, 4) << "the source was read once through: 3 chunks and the end";
  EXPECT_EQ(s->stats().requests_by_method["POST"], 1u);
}

INSTANTIATE_TEST_SUITE_P(Protocols, ClientBodySource, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Http2" : "Http1"; });
