// The hostile HTTP/2 servers (h2c, raw frames), one per class of broken
// behaviour, with the errors a request to each may end with. Owned here so
// the library's test (integration/hostile_h2_test.cpp) and the CLI's
// (cli/get_hostile_test.cpp) judge the same servers.
#pragma once

#include "support/h2_frames.hpp"
#include "support/raw_server.hpp"

#include <rebound/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace rebound::testing::hostile_h2 {

namespace f = rebound::testing::h2frames;

using Script = std::function<void(RawConnection&, f::FrameReader&)>;

struct HostileCase {
  const char* name;
  Script script;
  /// Accepted errors (empty: the request must succeed with `status` and `body`).
  std::vector<errc> expected;
  int status = 0;
  /// Connections the client may open to the hostile server.
  int connections = 1;
  /// The request is a POST with a 100 kB body.
  bool upload = false;
  /// The client must hang up on the server (floods): the script's endless
  /// write loop ends.
  bool client_hangs_up = false;
  std::string body{};
};

/// Set by forever() when its write fails: the client hung up on a flood.
/// One per process (an inline variable); a test resets it before its case.
inline std::atomic<bool> hung_up{false};

/// Writes `unit` until the client goes away (or a generous cap).
inline void forever(RawConnection& conn, const std::string& unit) {
  for (int i = 0; i < 10'000'000; ++i)
    if (!conn.write(unit)) {
      hung_up = true;
      return;
    }
}

/// Reads until the client closes (or a generous bound): a server that says
/// nothing more but keeps the connection open.
inline void linger(RawConnection& conn) {
  try {
    conn.read_until("a delimiter the client never sends", std::chrono::seconds(30));
  } catch (const std::exception&) {
    // the client closed (or 30 s passed)
  }
}

/// A well-behaved opening: our SETTINGS, the client's preface and SETTINGS
/// (acknowledged), then the request's HEADERS on stream 1.
inline void greet(RawConnection& conn, f::FrameReader& frames) {
  conn.write(f::settings());
  frames.read_preface();
  frames.next_of_type(f::SETTINGS);
  conn.write(f::settings_ack());
  frames.next_of_type(f::HEADERS);
}

inline std::string status_200(bool end_stream = false) { return f::headers(1, {{":status", "200"}}, end_stream); }

/// An HPACK integer with an N-bit prefix whose other bits are `flags`.
inline std::string hpack_int(std::uint8_t flags, int prefix_bits, std::size_t value) {
  const std::size_t max = (1u << prefix_bits) - 1;
  std::string out;
  if (value < max) return std::string(1, static_cast<char>(flags | value));
  out += static_cast<char>(flags | max);
  value -= max;
  while (value >= 128) {
    out += static_cast<char>(0x80 | (value & 0x7f));
    value >>= 7;
  }
  out += static_cast<char>(value);
  return out;
}

inline std::vector<HostileCase> cases() {
  return {
      {"NoSettingsAtAll",
       [](RawConnection& c, f::FrameReader& frames) {
         frames.read_preface();
         linger(c);
       },
       {errc::protocol_negotiation_failed}},
      {"SettingsNeverAcknowledged",
       [](RawConnection& c, f::FrameReader& frames) {
         c.write(f::settings());
         frames.read_preface();
         linger(c);
       },
       {errc::protocol_negotiation_failed}},
      {"UnknownFramesAreIgnored",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::frame(0xfa, 0, 0, "junk") + f::frame(0xfb, 0, 1, "junk") + status_200(true));
       },
       {}, 200},
      {"OversizeFrame",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(status_200() + f::frame(f::DATA, f::flag::END_STREAM, 1, std::string(20000, 'x')));
       },
       {errc::protocol_error}},
      {"ServerInitiatedStream",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(2, {{":status", "200"}}, true));
       },
       {errc::protocol_error}},
      {"ContinuationFlood",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::frame(f::HEADERS, 0, 1, f::hpack({{":status", "200"}})));
         forever(c, f::frame(f::CONTINUATION, 0, 1, f::hpack({{"x-a", "b"}}).substr(1)));
       },
       {errc::protocol_error, errc::response_too_large}, 0, 1, false, true},
      {"HpackBomb",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         // One 4000-byte field into the dynamic table, then 10000 one-byte references to it.
         std::string block = "\x88";  // :status 200, from the static table
         block += '\x40' + hpack_int(0, 7, 6) + "x-bomb" + hpack_int(0, 7, 4000) + std::string(4000, 'b');
         block += std::string(10000, '\xbe');
         c.write(f::frame(f::HEADERS, f::flag::END_HEADERS | f::flag::END_STREAM, 1, block));
         linger(c);
       },
       {errc::response_too_large}},
      {"HpackIndexOutOfRange",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::frame(f::HEADERS, f::flag::END_HEADERS | f::flag::END_STREAM, 1, hpack_int(0x80, 7, 5000)));
       },
       {errc::protocol_error}},
      {"MissingStatus",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(1, {{"content-type", "text/plain"}}, true));
       },
       {errc::protocol_error}},
      {"DuplicateStatus",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(1, {{":status", "200"}, {":status", "204"}}, true));
       },
       {errc::protocol_error}},
      {"InvalidStatus",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(1, {{":status", "2x0"}}, true));
       },
       {errc::protocol_error}},
      {"UppercaseFieldName",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(1, {{":status", "200"}, {"X-Upper", "v"}}, true));
       },
       {errc::protocol_error}},
      {"ConnectionSpecificField",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(1, {{":status", "200"}, {"connection", "close"}}, true));
       },
       {errc::protocol_error}},
      {"DataOnStreamZero",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(status_200() + f::data(0, "x", false));
       },
       {errc::protocol_error}},
      {"DataBeyondTheFlowControlWindow",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         // The client's stream window is 4 MiB: send 5 MiB at once, ignoring it.
         std::string burst = status_200();
         for (int i = 0; i < 5 * 64; ++i) burst += f::data(1, std::string(16384, 'x'), false);
         c.write(burst);
         linger(c);
       },
       {errc::protocol_error, errc::response_too_large}},
      {"WindowUpdateOverflow",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::window_update(0, 0x7fffffff) + f::window_update(0, 0x7fffffff));
         linger(c);
       },
       {errc::protocol_error}},
      {"SettingsFlood",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         forever(c, f::settings() + f::settings() + f::settings() + f::settings());
       },
       {errc::protocol_error}, 0, 1, false, true},
      {"PingFlood",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         forever(c, f::ping(false) + f::ping(false) + f::ping(false) + f::ping(false));
       },
       {errc::protocol_error}, 0, 1, false, true},
      {"RstStreamFlood",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         forever(c, f::rst_stream(1, 0x8) + f::rst_stream(1, 0x8) + f::rst_stream(1, 0x8));
       },
       {errc::stream_reset, errc::protocol_error}, 0, 1, false, true},
      {"EmptyDataFrameFlood",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(status_200());
         forever(c, f::data(1, "", false) + f::data(1, "", false) + f::data(1, "", false));
       },
       {errc::protocol_error}, 0, 1, false, true},
      {"GoawayOnEveryConnection",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::goaway(0, 0));
         linger(c);
       },
       // Refused unprocessed: retried until the deadline (3 s) with rests
       // growing to about a second, not for max_attempts (issue 21): ~9
       // dials. It ends refused when the next rest would pass the deadline,
       // or at the deadline itself if a dial was under way then.
       {errc::refused_by_server, errc::deadline_exceeded}, 0, 12},
      {"PushPromiseWhilePushIsDisabled",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         std::string promise = std::string("\x00\x00\x00\x02", 4) + f::hpack({{":method", "GET"}, {":path", "/p"}});
         c.write(f::frame(0x5 /* PUSH_PROMISE */, f::flag::END_HEADERS, 1, promise));
         linger(c);
       },
       {errc::protocol_error}},
      {"ContentLengthDisagreesWithTheData",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(f::headers(1, {{":status", "200"}, {"content-length", "10"}}, false) + f::data(1, "abc", true));
       },
       {errc::protocol_error}},
      {"BadPadding",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         std::string payload = std::string(1, '\xff') + f::hpack({{":status", "200"}});
         c.write(f::frame(f::HEADERS, f::flag::END_HEADERS | f::flag::END_STREAM | f::flag::PADDED, 1, payload));
         linger(c);
       },
       {errc::protocol_error}},
      {"ZeroWindowForeverUnderAnUpload",
       [](RawConnection& c, f::FrameReader& frames) {
         c.write(f::settings({{f::setting::INITIAL_WINDOW_SIZE, 0}}));
         frames.read_preface();
         frames.next_of_type(f::SETTINGS);
         c.write(f::settings_ack());
         linger(c);
       },
       {errc::deadline_exceeded}, 0, 1, true},
      {"EndlessBody",
       [](RawConnection& c, f::FrameReader& frames) {
         greet(c, frames);
         c.write(status_200());
         forever(c, f::data(1, std::string(16384, 'x'), false));
       },
       {errc::response_too_large}, 0, 1, false, true},
  };
}

inline void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

/// The RawServer script for `hostile`, reading the client's frames as it
/// goes. `hostile` must outlive the server.
inline RawServer::Script script_for(const HostileCase& hostile) {
  return [&hostile](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    hostile.script(conn, frames);
  };
}

}  // namespace rebound::testing::hostile_h2
