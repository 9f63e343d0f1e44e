// The hostile HTTP/1.1 servers, one per class of broken behaviour, with the
// error each must end a request with. Owned here so the library's test
// (integration/hostile_h1_test.cpp) and the CLI's (cli/get_hostile_test.cpp)
// judge the same servers.
#pragma once

#include "support/raw_server.hpp"

#include <rebound/error.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace rebound::testing::hostile_h1 {

/// What the hostile server does after it read the request head; it may
/// write forever: a failed write (the client left) ends it.
using Behaviour = std::function<void(RawConnection&)>;

struct HostileCase {
  const char* name;
  Behaviour behaviour;
  /// The error the request must end with (nullopt: a response is fine).
  std::optional<errc> expected;
  /// Expected status and body when the request must succeed.
  int status = 0;
  std::string body{};
};

/// Writes `unit` until the client goes away (or a generous cap).
inline void forever(RawConnection& conn, const std::string& unit) {
  for (int i = 0; i < 10'000'000; ++i)
    if (!conn.write(unit)) return;
}

inline const std::string ok_head = "HTTP/1.1 200 OK\r\n";

inline std::vector<HostileCase> cases() {
  using namespace std::literals;
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
       std::nullopt, 200, "ok"},
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
       std::nullopt, 200, "ok"},
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

inline void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

/// The RawServer script for `hostile`: it reads the request head, then
/// misbehaves. `hostile` must outlive the server.
inline RawServer::Script script_for(const HostileCase& hostile) {
  return [&hostile](RawConnection& conn, int) {
    try {
      conn.read_until("\r\n\r\n");
    } catch (const std::exception&) {
      return;  // the client left before its request was complete
    }
    hostile.behaviour(conn);
  };
}

}  // namespace rebound::testing::hostile_h1
