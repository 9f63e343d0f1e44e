// Specification of header lists.
#include <rebound/headers.hpp>

#include <gtest/gtest.h>

using namespace rebound;

TEST(Headers, NamesAreCaseInsensitiveAndOrderIsKept) {
  Headers h;
  h.add("Content-Type", "text/plain").add("X-A", "1").add("x-a", "2");
  EXPECT_EQ(h.get("content-type").value(), "text/plain");
  EXPECT_EQ(h.get("X-a").value(), "1");
  EXPECT_EQ(h.size(), 3u);
  h.set("X-A", "3");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("x-a").value(), "3");
  EXPECT_EQ(h.remove("CONTENT-TYPE"), 1u);
  EXPECT_FALSE(h.contains("content-type"));
  EXPECT_EQ(h.value_or("missing", "fallback"), "fallback");
}

TEST(Headers, IequalsOnlyFoldsLetters) {
  EXPECT_TRUE(iequals("Abc-Def", "aBC-dEF"));
  EXPECT_FALSE(iequals("a-b", "a\rb"));  // '-' (0x2d) | 0x20 == 0x2d, '\r' differs
  EXPECT_FALSE(iequals("@", "`"));       // 0x40 and 0x60 differ only in bit 5 but are not letters
  EXPECT_FALSE(iequals("ab", "abc"));
}
