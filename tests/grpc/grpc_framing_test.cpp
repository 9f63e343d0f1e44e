// gRPC's wire details without a server: the 5-byte message prefix in any
// split the network produces, the limits a reader enforces, where a
// response keeps its status, and grpc-timeout's encoding.
#include <rebound/grpc/channel.hpp>
#include <rebound/grpc/framing.hpp>
#include <rebound/grpc/status.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace rebound::grpc;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> read_all(MessageReader& reader, const std::vector<std::string>& pieces) {
  std::vector<std::string> messages;
  for (const auto& p : pieces)
    EXPECT_TRUE(reader.feed(p, [&](std::string_view m) {
      messages.emplace_back(m);
      return true;
    })) << reader.error();
  return messages;
}

}  // namespace

TEST(GrpcFraming, AMessageIsPrefixedByAZeroFlagAndItsBigEndianLength) {
  const std::string framed = encode_message("abc");
  ASSERT_EQ(framed.size(), 8u);
  EXPECT_EQ(framed, std::string("\0\0\0\0\3abc", 8));
  EXPECT_EQ(encode_message(""), std::string(5, '\0'));
  EXPECT_EQ(encode_message(std::string(0x010203, 'x')).substr(0, 5), std::string("\0\0\x01\x02\x03", 5));
}

TEST(GrpcFraming, MessagesSplitAtEveryByteComeOutWholeAndInOrder) {
  const std::string body = encode_message("first") + encode_message("") + encode_message("third message");
  for (std::size_t cut1 = 0; cut1 <= body.size(); ++cut1) {
    for (std::size_t cut2 = cut1; cut2 <= body.size(); ++cut2) {
      MessageReader reader;
      const auto messages =
          read_all(reader, {body.substr(0, cut1), body.substr(cut1, cut2 - cut1), body.substr(cut2)});
      ASSERT_EQ(messages, (std::vector<std::string>{"first", "", "third message"})) << cut1 << "," << cut2;
      EXPECT_TRUE(reader.at_boundary());
    }
  }
}

TEST(GrpcFraming, ABodyThatStopsInsideAMessageIsNotAtABoundary) {
  MessageReader reader;
  const std::string framed = encode_message("partial");
  EXPECT_TRUE(read_all(reader, {framed.substr(0, 7)}).empty());
  EXPECT_FALSE(reader.at_boundary());
}

TEST(GrpcFraming, ACompressedMessageIsRefusedBecauseNoEncodingWasNegotiated) {
  MessageReader reader;
  std::string framed = encode_message("zz");
  framed[0] = 1;
  EXPECT_FALSE(reader.feed(framed, [](std::string_view) { return true; }));
  EXPECT_NE(reader.error().find("compressed"), std::string::npos);
  EXPECT_FALSE(reader.feed(encode_message("ok"), [](std::string_view) { return true; })) << "no recovery after an error";
}

TEST(GrpcFraming, AnOversizedLengthIsRefusedFromItsPrefixBeforeAnythingIsBuffered) {
  MessageReader reader(16);
  const std::string prefix("\0\0\0\0\x11", 5);  // 17 bytes announced
  EXPECT_TRUE(reader.feed(prefix.substr(0, 3), [](std::string_view) { return true; }));
  EXPECT_FALSE(reader.feed(prefix.substr(3), [](std::string_view) { return true; }));
  EXPECT_NE(reader.error().find("above the limit"), std::string::npos);
}

TEST(GrpcFraming, ACallbackReturningFalseStopsTheReader) {
  MessageReader reader;
  int seen = 0;
  EXPECT_FALSE(reader.feed(encode_message("a") + encode_message("b"), [&](std::string_view) {
    ++seen;
    return false;
  }));
  EXPECT_EQ(seen, 1);
  EXPECT_TRUE(reader.error().empty());
}

TEST(GrpcStatus, TheTrailersCarryTheStatusAndItsPercentEncodedMessage) {
  const rebound::Headers headers{{"content-type", "application/grpc"}};
  const rebound::Headers trailers{{"grpc-status", "9"}, {"grpc-message", "lease%20not%20found%25"}};
  const Status s = status_of(200, headers, trailers);
  EXPECT_EQ(s.code, StatusCode::failed_precondition);
  EXPECT_EQ(s.message, "lease not found%");
  EXPECT_TRUE(s.from_server);
  EXPECT_EQ(s.to_string(), "FAILED_PRECONDITION: lease not found%");
}

TEST(GrpcStatus, ATrailersOnlyResponseCarriesTheStatusInItsHeaders) {
  const Status s = status_of(200, {{"grpc-status", "14"}, {"grpc-message", "etcdserver: no leader"}}, {});
  EXPECT_EQ(s.code, StatusCode::unavailable);
  EXPECT_EQ(s.message, "etcdserver: no leader");
  EXPECT_TRUE(s.from_server);
}

TEST(GrpcStatus, WithoutGrpcStatusTheHttpStatusDecidesAndItIsNotTheServersStatus) {
  EXPECT_EQ(status_of(404, {}, {}).code, StatusCode::unimplemented);
  EXPECT_EQ(status_of(503, {}, {}).code, StatusCode::unavailable);
  EXPECT_EQ(status_of(500, {}, {}).code, StatusCode::unknown);
  const Status missing = status_of(200, {}, {});
  EXPECT_EQ(missing.code, StatusCode::internal);
  EXPECT_FALSE(missing.from_server);
  EXPECT_EQ(status_of(200, {}, {{"grpc-status", "x1"}}).code, StatusCode::unknown);
  EXPECT_EQ(status_of(200, {}, {{"grpc-status", "99"}}).code, StatusCode::unknown);
}

TEST(GrpcStatus, TransportFailuresMapToCancelledDeadlineOrUnavailable) {
  using rebound::errc;
  EXPECT_EQ(status_of(rebound::Error(errc::cancelled)).code, StatusCode::cancelled);
  EXPECT_EQ(status_of(rebound::Error(errc::deadline_exceeded)).code, StatusCode::deadline_exceeded);
  const Status refused = status_of(rebound::Error(errc::connection_refused));
  EXPECT_EQ(refused.code, StatusCode::unavailable);
  EXPECT_FALSE(refused.from_server);
  ASSERT_TRUE(refused.transport);
}

TEST(GrpcStatus, AConnectionFoundDeadByItsHealthCheckIsUnavailableNotTheCallsDeadline) {
  // A silent peer is a transport failure (gRPC's keepalive failure is
  // UNAVAILABLE); DEADLINE_EXCEEDED would tell the caller its own deadline
  // passed, long before it did.
  using rebound::errc;
  EXPECT_EQ(status_of(rebound::Error(errc::health_check_failed, "", rebound::progress::sent)).code,
            StatusCode::unavailable);
  EXPECT_EQ(status_of(rebound::Error(errc::response_header_timeout)).code, StatusCode::deadline_exceeded);
  EXPECT_EQ(status_of(rebound::Error(errc::connect_timeout)).code, StatusCode::unavailable);
}

TEST(GrpcTimeout, TheFinestUnitWithinEightDigitsRoundedUp) {
  EXPECT_EQ(encode_timeout(250ms), "250m");
  EXPECT_EQ(encode_timeout(99'999'999ms), "99999999m");
  EXPECT_EQ(encode_timeout(100'000'000ms), "100000S");
  EXPECT_EQ(encode_timeout(100'000'001ms), "100001S");
  EXPECT_EQ(encode_timeout(-5ms), "0m");
}

TEST(GrpcRequest, APostWithGrpcHeadersTheDeadlineAndOneFramedMessage) {
  CallOptions o;
  o.timeout = 1500ms;
  o.metadata.add("x-trace", "1");
  const auto r = make_request("http://127.0.0.1:2379", "/etcdserverpb.KV/Range", "msg", o);
  EXPECT_EQ(r.method(), "POST");
  EXPECT_EQ(r.url(), "http://127.0.0.1:2379/etcdserverpb.KV/Range");
  EXPECT_EQ(r.headers().value_or("content-type", ""), "application/grpc");
  EXPECT_EQ(r.headers().value_or("te", ""), "trailers");
  EXPECT_EQ(r.headers().value_or("grpc-timeout", ""), "1500m");
  EXPECT_EQ(r.headers().value_or("x-trace", ""), "1");
  EXPECT_EQ(r.body(), encode_message("msg"));
  ASSERT_TRUE(r.timeout());
  EXPECT_EQ(*r.timeout(), 1500ms);
  EXPECT_EQ(r.retry_policy(), rebound::RetryPolicy::automatic) << "a POST: resent only when provably unprocessed";
}
