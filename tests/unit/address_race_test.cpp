// The RFC 8305 ordering (pure), and AddressRace against real sockets on
// 127.0.0.1: a refusing address fails over at once, all refusing reports
// each, and a cancelled race calls nobody.
#include "net/address_race.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <optional>

using rebound::net::AddressRace;
using rebound::net::interleave_families;
using rebound::net::tcp;
namespace asio = boost::asio;

namespace {

tcp::endpoint ep(const char* address, unsigned short port = 443) {
  return {asio::ip::make_address(address), port};
}

// A port on 127.0.0.1 nothing listens on: bound, then closed.
unsigned short refusing_port(asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace

TEST(InterleaveFamilies, Ipv6FirstThenAlternatingEachFamilyInItsOrder) {
  const auto out = interleave_families({ep("10.0.0.1"), ep("10.0.0.2"), ep("10.0.0.3"), ep("fd00::1"), ep("fd00::2")});
  const std::vector<tcp::endpoint> want{ep("fd00::1"), ep("10.0.0.1"), ep("fd00::2"), ep("10.0.0.2"), ep("10.0.0.3")};
  EXPECT_EQ(out, want);
}

TEST(InterleaveFamilies, OneFamilyKeepsItsOrderAndDuplicatesGo) {
  const auto out = interleave_families({ep("10.0.0.2"), ep("10.0.0.1"), ep("10.0.0.2"), ep("10.0.0.1")});
  const std::vector<tcp::endpoint> want{ep("10.0.0.2"), ep("10.0.0.1")};
  EXPECT_EQ(out, want);
  EXPECT_TRUE(interleave_families({}).empty());
  const std::vector<tcp::endpoint> v6{ep("::1"), ep("fd00::9")};
  EXPECT_EQ(interleave_families(v6), v6);
}

TEST(AddressRace, ARefusingAddressFailsOverAtOnceNotAfterTheDelay) {
  asio::io_context io;
  tcp::acceptor live(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto refused = refusing_port(io);
  std::optional<boost::system::error_code> result;
  tcp::endpoint peer;
  std::string detail;
  // A delay far beyond the test's patience: only "at once on failure" passes.
  auto race = std::make_shared<AddressRace>(
      io.get_executor(), std::vector{ep("127.0.0.1", refused), live.local_endpoint()}, std::chrono::hours(1),
      [&](boost::system::error_code ec, tcp::socket s, std::string failed_before) {
        result = ec;
        if (!ec) peer = s.remote_endpoint();
        detail = std::move(failed_before);
      });
  race->start();
  EXPECT_TRUE(race->untried_left());
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(peer, live.local_endpoint());
  EXPECT_FALSE(race->untried_left());
  // The winner's detail names the address that failed before it (the
  // dial_done event shows it).
  EXPECT_NE(detail.find("127.0.0.1: "), std::string::npos) << detail;
}

TEST(AddressRace, AFirstAddressThatAnswersLeavesNothingFailed) {
  asio::io_context io;
  tcp::acceptor live(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::optional<boost::system::error_code> result;
  std::string detail = "unset";
  auto race = std::make_shared<AddressRace>(io.get_executor(), std::vector{live.local_endpoint()}, std::chrono::hours(1),
                                            [&](boost::system::error_code ec, tcp::socket, std::string failed_before) {
                                              result = ec;
                                              detail = std::move(failed_before);
                                            });
  race->start();
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(detail, "");
}

TEST(AddressRace, EveryAddressRefusingReportsEachAndTheLastError) {
  asio::io_context io;
  const auto a = refusing_port(io), b = refusing_port(io);
  std::optional<boost::system::error_code> result;
  std::string detail;
  auto race = std::make_shared<AddressRace>(io.get_executor(), std::vector{ep("127.0.0.1", a), ep("127.0.0.1", b)},
                                            std::chrono::milliseconds(250),
                                            [&](boost::system::error_code ec, tcp::socket, std::string d) {
                                              result = ec;
                                              detail = std::move(d);
                                            });
  race->start();
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, asio::error::connection_refused);
  EXPECT_EQ(detail, "127.0.0.1: " + result->message() + "; 127.0.0.1: " + result->message());
}

TEST(AddressRace, ACancelledRaceCallsNobody) {
  asio::io_context io;
  tcp::acceptor live(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  bool called = false;
  auto race = std::make_shared<AddressRace>(io.get_executor(), std::vector{live.local_endpoint()},
                                            std::chrono::milliseconds(250),
                                            [&](boost::system::error_code, tcp::socket, std::string) { called = true; });
  race->start();
  race->cancel();
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(called);
}
