// Watch lines as kube-apiserver writes them, parsed; resourceVersions
// compared as numbers when they are numbers and never otherwise.
#include "watch_event.hpp"

#include <gtest/gtest.h>

using namespace rebound::kube;
using namespace rebound::kube::detail;

TEST(WatchEvent, AnEventLineGivesItsTypeObjectAndVersion) {
  auto p = parse_watch_line(R"({"type":"MODIFIED","object":{"kind":"Lease","metadata":{"name":"x","resourceVersion":"42"}}})");
  ASSERT_TRUE(std::holds_alternative<WatchEvent>(p));
  const auto& e = std::get<WatchEvent>(p);
  EXPECT_EQ(e.type, WatchEvent::Type::modified);
  EXPECT_EQ(e.resource_version, "42");
  EXPECT_EQ(e.object.at("kind").as_string(), "Lease");
}

TEST(WatchEvent, AnErrorLineGivesTheStatusCode) {
  auto p = parse_watch_line(
      R"J({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410}})J");
  ASSERT_TRUE(std::holds_alternative<WatchError>(p));
  EXPECT_EQ(std::get<WatchError>(p).code, 410);
  EXPECT_EQ(std::get<WatchError>(p).message, "Expired: too old resource version: 5 (9)");
}

TEST(WatchEvent, GarbageIsABadLineThatSaysWhy) {
  for (const char* line : {"not json", R"({"type":"ADDED"})", R"({"type":"WHAT","object":{}})",
                           R"({"type":"ADDED","object":{"metadata":{}}})"}) {
    auto p = parse_watch_line(line);
    ASSERT_TRUE(std::holds_alternative<BadLine>(p)) << line;
    EXPECT_FALSE(std::get<BadLine>(p).why.empty());
  }
}

TEST(WatchEvent, VersionsAreComparedAsNumbersOnlyWhenBothAreNumbers) {
  EXPECT_TRUE(not_newer("9", "10"));  // not as text: "9" > "10"
  EXPECT_TRUE(not_newer("10", "10"));
  EXPECT_FALSE(not_newer("11", "10"));
  EXPECT_FALSE(not_newer("abc", "10"));
  EXPECT_FALSE(not_newer("10", ""));
}

TEST(WatchEvent, AVersionTheServerHasNotReachedIsToldByItsCauseOrByAnOlderServersTimeoutText) {
  // 1.18.6 and later: the cause ResourceVersionTooLarge.
  auto p = parse_watch_line(
      R"({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"Too large resource version: 50, current: 20","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}]},"code":504}})");
  ASSERT_TRUE(std::holds_alternative<WatchError>(p));
  EXPECT_TRUE(std::get<WatchError>(p).too_large_resource_version);
  EXPECT_EQ(std::get<WatchError>(p).code, 504);
  const auto cause_alone = parse_status_body(
      R"({"kind":"Status","reason":"Timeout","message":"x","details":{"causes":[{"reason":"ResourceVersionTooLarge"}]},"code":504})");
  ASSERT_TRUE(cause_alone);
  EXPECT_TRUE(cause_alone->too_large_resource_version);
  // 1.17.0-1.18.5: a Timeout whose cause message says so; before 1.17: the message.
  for (const char* body :
       {R"({"kind":"Status","reason":"Timeout","message":"x","details":{"causes":[{"message":"Too large resource version"}]},"code":504})",
        R"({"kind":"Status","reason":"Timeout","message":"Too large resource version: 50, current: 20","code":504})"}) {
    const auto s = parse_status_body(body);
    ASSERT_TRUE(s) << body;
    EXPECT_TRUE(s->too_large_resource_version) << body;
  }
  // Other timeouts, and other errors, are not.
  const auto other = parse_status_body(R"({"kind":"Status","reason":"Timeout","message":"request did not complete","code":504})");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->too_large_resource_version);
  EXPECT_FALSE(parse_status_body("<html>Gateway Timeout</html>"));
}
