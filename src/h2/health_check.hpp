// The health of one HTTP/2 connection, as decisions: whether the peer's
// SETTINGS (and its ACK of ours) came in time, when an idle connection is
// PINGed, when a PING without an answer means the peer is gone, and what a
// stream that timed out makes of the connection (suspect until it proves
// alive; at most one probe PING per quiet spell, since gRPC servers answer
// PINGs without HEADERS or DATA in between with GOAWAY ENHANCE_YOUR_CALM;
// retired when none may ask). Pure bookkeeping: time is a parameter, the
// connection sends the PINGs, arms the timer and closes. One connection's,
// on its I/O thread.
#pragma once

#include <rebound/error.hpp>

#include <chrono>
#include <string>

namespace rebound::h2 {

class HealthCheck {
 public:
  using Clock = std::chrono::steady_clock;
  using ms = std::chrono::milliseconds;

  /// `read_idle_timeout` <= 0: no idle PINGs; `ping_timeout` <= 0: no
  /// deadline for SETTINGS, no PING ever (no probes either).
  HealthCheck(ms read_idle_timeout, ms ping_timeout, Clock::time_point started)
      : read_idle_timeout_(read_idle_timeout), ping_timeout_(ping_timeout), started_(started), last_read_(started) {}

  // --- what the connection saw ---
  /// Bytes arrived: the peer is alive (a suspect connection is no more).
  void on_input(Clock::time_point now) {
    last_read_ = now;
    suspect_ = false;
  }
  /// HEADERS or DATA arrived: a probe may ask again.
  void on_headers_or_data() { may_probe_ = true; }
  void on_peer_settings() { peer_settings_seen_ = true; }
  void on_settings_acked() { settings_acked_ = true; }
  /// A PING ACK arrived; true when it answered our outstanding PING.
  bool on_ping_ack() {
    const bool answered = ping_outstanding_;
    ping_outstanding_ = false;
    return answered;
  }
  /// The connection sent a PING now.
  void on_ping_sent(Clock::time_point now) {
    ping_outstanding_ = true;
    ping_sent_at_ = now;
  }

  // --- decisions ---
  struct TimerVerdict {
    enum class Do {
      close,      ///< with `code` and `reason`: no SETTINGS (or no ACK of ours), or no PING ACK, in time
      send_ping,  ///< idle for read_idle_timeout: ask, then look again after `after`
      wait,       ///< nothing due: look again after `after`
    } what;
    ms after{0};
    errc code{};         ///< for close: protocol_negotiation_failed or health_check_failed
    std::string reason;  ///< for close: what did not come in time
  };
  /// The health timer fired at `now`. `may_idle_ping` false (no open
  /// stream, and Options::ping_without_streams off): an idle connection is
  /// not PINGed now; the timer looks again after read_idle_timeout.
  TimerVerdict on_timer(Clock::time_point now, bool may_idle_ping = true);
  /// When the first check is due after the connection started.
  ms first_check() const;
  /// Whether the health timer runs at all: only with idle PINGs on
  /// (read_idle_timeout > 0); without them nothing is ever checked.
  bool enabled() const { return read_idle_timeout_.count() > 0; }

  enum class ProbeVerdict {
    nothing,   ///< draining or no PING allowed (ping_timeout <= 0): the timeout says nothing
    retire,    ///< suspect, and no PING may ask: take nothing more, finish, close
    asking,    ///< suspect; a PING already asks
    send_ping, ///< suspect; send a probe PING now (then on_ping_sent)
  };
  /// A stream timed out (a deadline or header timeout, not a cancel).
  ProbeVerdict on_stream_timed_out();

  bool suspect() const { return suspect_; }
  bool limits_pending() const { return !peer_settings_seen_; }
  bool ping_outstanding() const { return ping_outstanding_; }

 private:
  bool settings_done() const { return peer_settings_seen_ && settings_acked_; }
  ms read_idle_timeout_;
  ms ping_timeout_;
  Clock::time_point started_;
  Clock::time_point last_read_;
  Clock::time_point ping_sent_at_{};
  bool ping_outstanding_ = false;
  bool peer_settings_seen_ = false;
  bool settings_acked_ = false;
  bool suspect_ = false;   // gave up a stream; takes none until input arrives
  bool may_probe_ = true;  // no probe PING since the server last sent HEADERS or DATA
};

}  // namespace rebound::h2
