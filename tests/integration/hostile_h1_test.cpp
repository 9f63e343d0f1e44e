// HTTP/1.1 servers that break the rules, on purpose. For each, the client
// gives one request one error that names the problem, before the request's
// deadline, with memory bounded, without retrying what will fail the same
// way, and keeps working for the next request on another connection.
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <functional>
#include <optional>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

/// What the hostile server does after it read the request head; it may
/// write forever: a failed write (the client left) ends it.
using Behaviour = std::function<void(RawConnection&)>;

struct HostileCase {
  const char* name;
  Behaviour behaviour;
  /// The error the request must end with (nullopt: a response is fine).
  std::optional<errc> expected;
  /// Expected status when the request must succeed.
  int status = 0;
};

/// Writes `unit` until the client goes away (or a generous cap).
void forever(RawConnection& conn, const std::string& unit) {
  for (int i = 0; i < 10'000'000; ++i)
    if (!conn.write(unit)) return;
}

const std::string ok_head = "HTTP/1.1 200 OK\r\n";

std::vector<HostileCase> cases() {
  return {
      {"GarbageStatusLine", [](RawConnection& c) { c.write("HTTP/1.1 abc Nope\r\nContent-Length: 0\r\n\r\n"); },
       errc::protocol_error},
      {"StatusOutOfRange", [](RawConnection& c) { c.write("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"); },
       errc::protocol_error},
      {"StatusBelowHundred", [](RawConnection& c) { c.write("HTTP/1.1 042 Odd\r\nContent-Length: 0\r\n\r\n"); },
       errc::protocol_error},
      {"NotHttpAtAll", [](RawConnection& c) { c.write("SSH-2.0-OpenSSH_9.2\r\n"); }, errc::protocol_error},
      {"HeaderLineFarOverTheLimit",
       [](RawConnection& c) {
         c.write(ok_head + "X-Big: ");
         forever(c, std::string(64 * 1024, 'a'));
       },
       errc::response_too_large},
      {"HeaderCountFarOverTheLimit",
       [](RawConnection& c) {
         c.write(ok_head);
         forever(c, "X-A: b\r\n");
       },
       errc::response_too_large},
      {"NegativeContentLength", [](RawConnection& c) { c.write(ok_head + "Content-Length: -1\r\n\r\n"); },
       errc::protocol_error},
      {"NonNumericContentLength", [](RawConnection& c) { c.write(ok_head + "Content-Length: ten\r\n\r\n"); },
       errc::protocol_error},
      {"ConflictingContentLengths",
       [](RawConnection& c) { c.write(ok_head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc"); },
       errc::protocol_error},
      {"ContentLengthListThatDisagrees",
       [](RawConnection& c) { c.write(ok_head + "Content-Length: 2, 3\r\n\r\nabc"); }, errc::protocol_error},
      {"ContentLengthWithTransferEncoding",
       [](RawConnection& c) {
         c.write(ok_head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
       },
       errc::protocol_error},
      {"InvalidChunkSize",
       [](RawConnection& c) { c.write(ok_head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"); },
       errc::protocol_error},
      {"ChunkSizeBeyondSixtyFourBits",
       [](RawConnection& c) {
         c.write(ok_head + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nok\r\n0\r\n\r\n");
       },
       errc::protocol_error},
      {"EndlessChunkedBody",
       [](RawConnection& c) {
         c.write(ok_head + "Transfer-Encoding: chunked\r\n\r\n");
         forever(c, "4000\r\n" + std::string(0x4000, 'x') + "\r\n");
       },
       errc::response_too_large},
      {"EndlessChunkExtension",
       [](RawConnection& c) {
         c.write(ok_head + "Transfer-Encoding: chunked\r\n\r\n2;ext=");
         forever(c, std::string(64 * 1024, 'e'));
       },
       errc::response_too_large},
      {"EndlessTrailerSection",
       [](RawConnection& c) {
         c.write(ok_head + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n");
         forever(c, "X-Trailer: t\r\n");
       },
       errc::response_too_large},
      {"EndlessInterimResponses", [](RawConnection& c) { forever(c, "HTTP/1.1 100 Continue\r\n\r\n"); },
       errc::protocol_error},
      {"EarlyHintsThenTheResponse",
       [](RawConnection& c) {
         c.write("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" + ok_head +
                 "Content-Length: 2\r\n\r\nok");
       },
       std::nullopt, 200},
      {"UnsolicitedSwitchingProtocols",
       [](RawConnection& c) { c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"); },
       errc::protocol_error},
      {"BareLineFeeds", [](RawConnection& c) { c.write("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"); },
       errc::protocol_error},
      {"NulInAHeaderValue",
       [](RawConnection& c) { c.write(ok_head + "X-A: a\0b\r\nContent-Length: 0\r\n\r\n"s); },
       errc::protocol_error},
      {"ObsoleteLineFolding",
       // RFC 9112 5.2: a user agent replaces each obs-fold with spaces.
       [](RawConnection& c) { c.write(ok_head + "X-A: a\r\n folded\r\nContent-Length: 2\r\n\r\nok"); },
       std::nullopt, 200},
      {"TrickleOneByteASecond",
       [](RawConnection& c) {
         for (char ch : ok_head + "Content-Length: 2\r\n\r\nok") {
           if (!c.write(std::string(1, ch))) return;
           std::this_thread::sleep_for(1s);
         }
       },
       errc::deadline_exceeded},
      {"AcceptsAndNeverAnswers", [](RawConnection& c) { c.read_some(30s); }, errc::deadline_exceeded},
  };
}

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

long long heap_in_use() { return static_cast<long long>(::mallinfo2().uordblks); }

class HostileH1 : public FaultTest, public ::testing::WithParamInterface<HostileCase> {};

}  // namespace

TEST_P(HostileH1, OneNamedErrorWithinTheDeadlineBoundedMemoryAndTheClientKeepsWorking) {
  const HostileCase& hostile = GetParam();
  RawServer server([&](RawConnection& conn, int) {
    try {
      conn.read_until("\r\n\r\n");
    } catch (const std::exception&) {
      return;
    }
    hostile.behaviour(conn);
  });
  auto healthy = start_server();
  Options o;
  o.max_response_body = 1u << 20;
  o.max_header_list_size = 64u << 10;
  CheckedClient c(o);
  ASSERT_TRUE(c.get(healthy->url() + "/"));  // warm: the client's own allocations are made
  const auto heap_before = heap_in_use();
  constexpr auto deadline = 3s;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.send(Request::get(server.url("/")).timeout(deadline));
  const auto took = elapsed_since(t0);
  const auto heap_after = heap_in_use();

  EXPECT_LT(took, deadline + 1s) << "completed after its deadline";
  if (hostile.expected) {
    ASSERT_FALSE(r) << "a hostile response came back as status " << r->status();
    EXPECT_EQ(r.error().code(), *hostile.expected) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "not one line: " << r.error().message();
    EXPECT_EQ(r.error().attempts(), 1) << "retried what fails the same way: " << r.error().message();
  } else {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), hostile.status);
    for (const auto& [name, value] : r->headers())
      EXPECT_EQ(value.find_first_of("\r\n"), std::string::npos) << name << " kept a line break";
  }
  EXPECT_LT(heap_after - heap_before, 16ll << 20) << "memory grew with what the server sent";
  auto next = c.get(healthy->url() + "/");
  EXPECT_TRUE(next) << "the client stopped working: " << next.error().message();
  EXPECT_EQ(server.connections_accepted(), 1) << "the hostile server was dialed again";
}

INSTANTIATE_TEST_SUITE_P(Servers, HostileH1, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });
