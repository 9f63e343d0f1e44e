// Specification of URL parsing.
#include <rebound/url.hpp>

#include <gtest/gtest.h>

using namespace rebound;

TEST(Url, ParsesHostPortPathAndQuery) {
  auto u = parse_url("http://Example.COM:8080/a/b?x=1&y=2#frag");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->scheme(), "http");
  EXPECT_EQ(u->host(), "example.com");
  EXPECT_EQ(u->port(), 8080);
  EXPECT_EQ(u->target(), "/a/b?x=1&y=2");
  EXPECT_EQ(u->authority(), "example.com:8080");
  EXPECT_EQ(u->origin(), "http://example.com:8080");
}

TEST(Url, DefaultPortsAndEmptyPath) {
  auto a = parse_url("https://127.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port(), 443);
  EXPECT_TRUE(a->tls());
  EXPECT_EQ(a->target(), "/");
  EXPECT_EQ(a->authority(), "127.0.0.1");
  auto b = parse_url("http://localhost");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port(), 80);
  EXPECT_EQ(b->origin(), "http://localhost:80");
}

TEST(Url, BracketedIpv6Literals) {
  auto u = parse_url("https://[::1]:8443/x");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->host(), "::1");
  EXPECT_TRUE(u->ipv6());
  EXPECT_EQ(u->authority(), "[::1]:8443");
  EXPECT_EQ(u->origin(), "https://[::1]:8443");
}

TEST(Url, RejectsBadInputWithAMessageNamingTheProblem) {
  struct Case { const char* text; errc code; const char* says; };
  const Case cases[] = {
      {"", errc::invalid_url, "empty"},
      {"example.com/x", errc::invalid_url, "missing scheme"},
      {"ftp://example.com/", errc::unsupported_scheme, "ftp"},
      {"http://", errc::invalid_url, "missing host"},
      {"http://host:99999/", errc::invalid_url, "99999"},
      {"http://host:0/", errc::invalid_url, "port"},
      {"http://user:pw@host/", errc::invalid_url, "user information"},
      {"http://host/a b", errc::invalid_url, "character 14"},
      {"http://[::1/", errc::invalid_url, "not"},
  };
  for (const auto& c : cases) {
    auto u = parse_url(c.text);
    ASSERT_FALSE(u) << c.text;
    EXPECT_EQ(u.error().code(), c.code) << c.text;
    EXPECT_NE(u.error().message().find(c.says), std::string::npos) << c.text << " -> " << u.error().message();
  }
}
