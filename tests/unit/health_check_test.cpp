// Specification of an HTTP/2 connection's health decisions
// (src/h2/health_check.*), with time as a parameter: the peer's SETTINGS
// are due within ping_timeout, an idle connection is PINGed after
// read_idle_timeout and closed when the PING gets no answer, and a stream
// that timed out makes the connection suspect, probed by at most one PING
// per quiet spell, retired when none may ask.
#include "h2/health_check.hpp"

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::h2;
using namespace std::chrono_literals;
using Do = HealthCheck::TimerVerdict::Do;

namespace {
const HealthCheck::Clock::time_point t0{std::chrono::seconds(1000)};

HealthCheck settled(std::chrono::milliseconds idle = 1000ms, std::chrono::milliseconds ping = 500ms) {
  HealthCheck h(idle, ping, t0);
  h.on_peer_settings();
  h.on_settings_acked();
  return h;
}
}  // namespace

TEST(HealthCheck, APeerThatSendsNoSettingsWithinPingTimeoutIsClosedAsNotSpeakingHttp2) {
  HealthCheck h(1000ms, 500ms, t0);
  EXPECT_TRUE(h.limits_pending());
  EXPECT_EQ(h.first_check(), 500ms);
  auto early = h.on_timer(t0 + 200ms);
  EXPECT_EQ(early.what, Do::wait);
  EXPECT_EQ(early.after, 300ms);
  auto late = h.on_timer(t0 + 500ms);
  ASSERT_EQ(late.what, Do::close);
  EXPECT_EQ(late.code, errc::protocol_negotiation_failed);
  EXPECT_NE(late.reason.find("sent no SETTINGS"), std::string::npos) << late.reason;
  h.on_peer_settings();
  EXPECT_FALSE(h.limits_pending());
  auto no_ack = h.on_timer(t0 + 600ms);
  ASSERT_EQ(no_ack.what, Do::close);
  EXPECT_NE(no_ack.reason.find("did not acknowledge"), std::string::npos) << no_ack.reason;
}

TEST(HealthCheck, AnIdleConnectionIsPingedAndClosedWhenTheAckDoesNotCome) {
  HealthCheck h = settled();
  EXPECT_EQ(h.on_timer(t0 + 400ms).what, Do::wait);
  auto ping = h.on_timer(t0 + 1000ms);
  ASSERT_EQ(ping.what, Do::send_ping);
  EXPECT_EQ(ping.after, 500ms);
  h.on_ping_sent(t0 + 1000ms);
  EXPECT_EQ(h.on_timer(t0 + 1200ms).what, Do::wait);
  auto gone = h.on_timer(t0 + 1500ms);
  ASSERT_EQ(gone.what, Do::close);
  EXPECT_EQ(gone.code, errc::health_check_failed);
}

TEST(HealthCheck, WithoutPingsOnStreamlessConnectionsAnIdleOneIsPingedOnlyOnceAStreamIsOpen) {
  // etcd counts every PING on a connection without streams as a strike.
  HealthCheck h = settled();
  auto quiet = h.on_timer(t0 + 1000ms, false);
  EXPECT_EQ(quiet.what, Do::wait);
  EXPECT_EQ(quiet.after, 1000ms);
  EXPECT_EQ(h.on_timer(t0 + 5000ms, false).what, Do::wait);
  EXPECT_FALSE(h.ping_outstanding());
  // A stream opened and nothing has come since: now the silence is asked about.
  EXPECT_EQ(h.on_timer(t0 + 5100ms, true).what, Do::send_ping);
}

TEST(HealthCheck, AnyInputAfterThePingProvesThePeerAliveAckOrNot) {
  HealthCheck h = settled();
  h.on_ping_sent(t0 + 1000ms);
  h.on_input(t0 + 1100ms);  // a DATA frame, say, before the ACK
  auto after = h.on_timer(t0 + 1600ms);
  EXPECT_EQ(after.what, Do::wait) << after.reason;
  EXPECT_FALSE(h.ping_outstanding());
  h.on_ping_sent(t0 + 3000ms);
  EXPECT_TRUE(h.on_ping_ack());
  EXPECT_FALSE(h.on_ping_ack()) << "a second ACK answered nothing";
}

TEST(HealthCheck, ATimedOutStreamProbesOncePerQuietSpellThenRetiresTheConnection) {
  HealthCheck h = settled();
  EXPECT_EQ(h.on_stream_timed_out(), HealthCheck::ProbeVerdict::send_ping);
  EXPECT_TRUE(h.suspect());
  h.on_ping_sent(t0 + 100ms);
  EXPECT_EQ(h.on_stream_timed_out(), HealthCheck::ProbeVerdict::asking);
  EXPECT_TRUE(h.on_ping_ack());
  h.on_input(t0 + 150ms);
  EXPECT_FALSE(h.suspect()) << "input proves it alive";
  // The server answered the PING but sent no HEADERS or DATA since: a
  // second probe would be a PING flood to a gRPC server.
  EXPECT_EQ(h.on_stream_timed_out(), HealthCheck::ProbeVerdict::retire);
  h.on_headers_or_data();
  EXPECT_EQ(h.on_stream_timed_out(), HealthCheck::ProbeVerdict::send_ping);
}

TEST(HealthCheck, WithoutPingsAllowedATimedOutStreamSaysNothingAboutTheConnection) {
  HealthCheck h = settled(1000ms, 0ms);
  EXPECT_EQ(h.on_stream_timed_out(), HealthCheck::ProbeVerdict::nothing);
  EXPECT_FALSE(h.suspect());
  EXPECT_FALSE(HealthCheck(0ms, 500ms, t0).enabled()) << "no idle PINGs: no health timer at all";
}
