// The redirect verdict (src/follow/redirect.hpp) as a pure function: no
// server, no clock.
#include "follow/redirect.hpp"

#include <gtest/gtest.h>

namespace rebound::follow {
namespace {

struct VerdictCase {
  Request request;
  Url url;
  std::vector<std::string> visited;
  RedirectVerdict decide(int status, std::optional<std::string_view> location, int hops = 0,
                         RedirectPolicy policy = RedirectPolicy::follow(5), bool replayable = true) {
    return decide_redirect({request, url, status, location, policy, hops, visited, replayable});
  }
};

VerdictCase verdict_case(Request r) {
  auto url = parse_url(r.url());
  return {std::move(r), *url, {}};
}

TEST(RedirectVerdict, ARelativeLocationResolvesAgainstTheRequestUrl) {
  auto c = verdict_case(Request::get("http://a.test:8080/x/y?q=1"));
  auto v = c.decide(302, "../z#frag");
  ASSERT_EQ(v.kind, RedirectVerdict::Kind::follow);
  EXPECT_EQ(v.next->url(), "http://a.test:8080/z");
}

TEST(RedirectVerdict, A302PostBecomesAGetWithoutBodyFieldsAndA308KeepsThem) {
  auto c = verdict_case(Request::post("http://a.test/form", "x=1", "text/plain"));
  auto v = c.decide(302, "/done");
  ASSERT_EQ(v.kind, RedirectVerdict::Kind::follow);
  EXPECT_EQ(v.next->method(), "GET");
  EXPECT_FALSE(v.next->has_body());
  EXPECT_FALSE(v.next->headers().contains("content-type"));
  auto keep = c.decide(308, "/done");
  ASSERT_EQ(keep.kind, RedirectVerdict::Kind::follow);
  EXPECT_EQ(keep.next->method(), "POST");
  EXPECT_EQ(keep.next->body(), "x=1");
  EXPECT_EQ(keep.next->headers().value_or("content-type", ""), "text/plain");
}

TEST(RedirectVerdict, AnotherOriginLosesCredentialsButNotOtherFields) {
  auto c = verdict_case(Request::get("https://a.test/")
                            .header("Authorization", "Bearer t")
                            .header("Cookie", "c=1")
                            .header("Proxy-Authorization", "Basic p")
                            .header("Accept", "text/html"));
  auto same = c.decide(301, "https://a.test:443/other");
  ASSERT_EQ(same.kind, RedirectVerdict::Kind::follow);
  EXPECT_TRUE(same.next->headers().contains("authorization"));
  auto other = c.decide(301, "http://a.test/");  // another scheme is another origin
  ASSERT_EQ(other.kind, RedirectVerdict::Kind::follow);
  EXPECT_FALSE(other.next->headers().contains("authorization"));
  EXPECT_FALSE(other.next->headers().contains("cookie"));
  EXPECT_FALSE(other.next->headers().contains("proxy-authorization"));
  EXPECT_TRUE(other.next->headers().contains("accept"));
}

TEST(RedirectVerdict, WhatCannotBeFollowedIsTheResponseOrAnError) {
  auto c = verdict_case(Request("PUT", "http://a.test/up").body_source([] { return std::string(); }, 0));
  EXPECT_EQ(c.decide(307, "/elsewhere", 0, RedirectPolicy::follow(5), false).kind, RedirectVerdict::Kind::deliver);
  EXPECT_EQ(c.decide(302, std::nullopt).kind, RedirectVerdict::Kind::deliver);
  EXPECT_EQ(c.decide(304, "/x").kind, RedirectVerdict::Kind::deliver);
  EXPECT_EQ(c.decide(302, "/x", 0, RedirectPolicy{}).kind, RedirectVerdict::Kind::deliver);
  EXPECT_EQ(c.decide(302, "http://b.test/", 0, {5, RedirectScope::same_origin}).kind, RedirectVerdict::Kind::deliver);
  auto bad = c.decide(302, "ftp://a.test/file");
  ASSERT_EQ(bad.kind, RedirectVerdict::Kind::fail);
  EXPECT_EQ(*bad.error, errc::unsupported_scheme);
  auto unparsable = c.decide(302, "http://[::1");
  ASSERT_EQ(unparsable.kind, RedirectVerdict::Kind::fail);
  EXPECT_EQ(*unparsable.error, errc::invalid_url);
  auto many = c.decide(302, "/x", 5);
  ASSERT_EQ(many.kind, RedirectVerdict::Kind::fail);
  EXPECT_EQ(*many.error, errc::too_many_redirects);
  c.visited = {"GET http://a.test/x"};
  auto loop = c.decide(303, "/x");
  ASSERT_EQ(loop.kind, RedirectVerdict::Kind::fail);
  EXPECT_EQ(*loop.error, errc::redirect_loop);
}

}  // namespace
}  // namespace rebound::follow
