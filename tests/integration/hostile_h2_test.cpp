// HTTP/2 servers that break the rules, on purpose (h2c, raw frames). For
// each, the request ends with one error that names the problem, before its
// deadline, with memory bounded; a violation is not retried (it would fail
// the same way); floods are cut off rather than served forever; and the
// client keeps working for the next request on another connection.
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"
#include "support/h2_frames.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <thread>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
namespace f = rebound::testing::h2frames;

namespace {

using Script = std::function<void(RawConnection&, f::FrameReader&)>;

struct HostileCase {
  const char* name;
  Script script;
  /// Accepted errors (empty: the request must succeed with `status`).
  std::vector<errc> expected;
  int status = 0;
  /// Connections the client may open to the hostile server.
  int connections = 1;
  /// The request is a POST with a 100 kB body.
  bool upload = false;
  /// The client must hang up on the server (floods): the script's endless
  /// write loop ends.
  bool client_hangs_up = false;
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

std::atomic<bool> hung_up{false};

/// Writes `unit` until the client goes away (or a generous cap).
void forever(RawConnection& conn, const std::string& unit) {
  for (int i = 0; i < 10'000'000; ++i)
    if (!conn.write(unit)) {
      hung_up = true;
      return;
    }
}

/// Reads until the client closes (or a generous bound): a server that says
/// nothing more but keeps the connection open.
void linger(RawConnection& conn) {
  try {
    conn.read_until("a delimiter the client never sends", 30s);
  } catch (const std::exception&) {
    // the client closed (or 30 s passed)
  }
}

/// A well-behaved opening: our SETTINGS, the client's preface and SETTINGS
/// (acknowledged), then the request's HEADERS on stream 1.
void greet(RawConnection& conn, f::FrameReader& frames) {
  conn.write(f::settings());
  frames.read_preface();
  frames.next_of_type(f::SETTINGS);
  conn.write(f::settings_ack());
  frames.next_of_type(f::HEADERS);
}

std::string status_200(bool end_stream = false) { return f::headers(1, {{":status", "200"}}, end_stream); }

/// An HPACK integer with an N-bit prefix whose other bits are `flags`.
std::string hpack_int(std::uint8_t flags, int prefix_bits, std::size_t value) {
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

std::vector<HostileCase> cases() {
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
       {errc::refused_by_server}, 0, 4},
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

long long heap_in_use() { return static_cast<long long>(::mallinfo2().uordblks); }

class HostileH2 : public FaultTest, public ::testing::WithParamInterface<HostileCase> {};

}  // namespace

TEST_P(HostileH2, OneNamedErrorWithinTheDeadlineBoundedMemoryAndTheClientKeepsWorking) {
  const HostileCase& hostile = GetParam();
  hung_up = false;
  RawServer server([&](RawConnection& conn, int) {
    f::FrameReader frames(conn);
    hostile.script(conn, frames);
  });
  auto healthy = start_server();
  Options o;
  o.http_version = HttpVersion::http2_prior_knowledge;
  o.max_response_body = 1u << 20;
  o.max_header_list_size = 64u << 10;
  o.ping_timeout = 1s;  // also bounds the wait for the server's SETTINGS and its ACK
  CheckedClient c(o);
  ASSERT_TRUE(c.get(healthy->url() + "/"));  // warm: the client's own allocations are made
  const auto heap_before = heap_in_use();
  constexpr auto deadline = 3s;
  const auto t0 = std::chrono::steady_clock::now();
  Request request = hostile.upload ? Request::post(server.url("/"), std::string(100'000, 'u')) : Request::get(server.url("/"));
  auto r = c.send(std::move(request.timeout(deadline)));
  const auto took = elapsed_since(t0);
  const auto heap_after = heap_in_use();

  EXPECT_LT(took, deadline + 1s) << "completed after its deadline";
  if (!hostile.expected.empty()) {
    ASSERT_FALSE(r) << "a hostile response came back as status " << r->status();
    EXPECT_TRUE(std::any_of(hostile.expected.begin(), hostile.expected.end(),
                            [&](errc e) { return r.error().code() == e; }))
        << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "not one line: " << r.error().message();
    if (hostile.connections == 1)
      EXPECT_EQ(r.error().attempts(), 1) << "retried what fails the same way: " << r.error().message();
  } else {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), hostile.status);
  }
  EXPECT_LT(heap_after - heap_before, 16ll << 20) << "memory grew with what the server sent";
  if (hostile.client_hangs_up)
    EXPECT_TRUE(eventually([] { return hung_up.load(); }, 10s)) << "the client kept reading a flood";
  auto next = c.get(healthy->url() + "/");
  EXPECT_TRUE(next) << "the client stopped working: " << next.error().message();
  EXPECT_LE(server.connections_accepted(), hostile.connections) << "the hostile server was dialed again";
}

INSTANTIATE_TEST_SUITE_P(Servers, HostileH2, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });
