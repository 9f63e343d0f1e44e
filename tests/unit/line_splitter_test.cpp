// LineSplitter: lines come out whole however the stream is chopped, without
// their line ends, empty ones skipped; an endless line fails instead of
// filling memory.
#include <rebound/line_splitter.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using rebound::LineSplitter;

namespace {

std::vector<std::string> split_in_pieces(std::string_view stream, std::size_t piece) {
  std::vector<std::string> lines;
  LineSplitter s([&](std::string_view l) { lines.emplace_back(l); });
  for (std::size_t i = 0; i < stream.size(); i += piece) EXPECT_TRUE(s.feed(stream.substr(i, piece)));
  return lines;
}

}  // namespace

TEST(LineSplitter, LinesComeOutWholeHoweverTheStreamIsChopped) {
  const std::string stream = "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\r\n\n{\"type\":\"DELETED\"}\n";
  const std::vector<std::string> want{"{\"type\":\"ADDED\"}", "{\"type\":\"MODIFIED\"}", "{\"type\":\"DELETED\"}"};
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) EXPECT_EQ(split_in_pieces(stream, piece), want) << piece;
}

TEST(LineSplitter, AnUnfinishedLineIsHeldNotDelivered) {
  std::vector<std::string> lines;
  LineSplitter s([&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_TRUE(s.feed("one\ntw"));
  EXPECT_EQ(lines, std::vector<std::string>{"one"});
  EXPECT_EQ(s.pending(), 2u);
  EXPECT_TRUE(s.feed("o\n"));
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(s.pending(), 0u);
}

TEST(LineSplitter, ALineOverTheLimitFailsTheSplitterForGood) {
  std::vector<std::string> lines;
  LineSplitter s([&](std::string_view l) { lines.emplace_back(l); }, 8);
  EXPECT_TRUE(s.feed("12345678\n"));  // exactly the limit
  EXPECT_TRUE(s.feed("1234"));
  EXPECT_FALSE(s.feed("56789"));
  EXPECT_TRUE(s.failed());
  EXPECT_FALSE(s.feed("\nok\n"));
  EXPECT_EQ(lines, std::vector<std::string>{"12345678"});
}
