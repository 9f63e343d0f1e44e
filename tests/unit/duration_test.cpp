// Specification of command-line durations.
#include "duration.hpp"

#include <gtest/gtest.h>

using rebound::cli::parse_duration;
using namespace std::chrono_literals;

TEST(Duration, AcceptsMillisecondsSecondsAndMinutes) {
  EXPECT_EQ(parse_duration("200ms"), 200ms);
  EXPECT_EQ(parse_duration("2s"), 2000ms);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("1m"), 60000ms);
}

TEST(Duration, RejectsMissingOrUnknownUnits) {
  EXPECT_FALSE(parse_duration("200"));
  EXPECT_FALSE(parse_duration("2h"));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration(""));
}
