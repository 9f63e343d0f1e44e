// HealthCheck's decisions; see health_check.hpp.
#include "h2/health_check.hpp"

#include <algorithm>

namespace rebound::h2 {

HealthCheck::ms HealthCheck::first_check() const {
  // Early enough to hold the server to its SETTINGS.
  return ping_timeout_.count() > 0 ? std::min(read_idle_timeout_, ping_timeout_) : read_idle_timeout_;
}

HealthCheck::TimerVerdict HealthCheck::on_timer(Clock::time_point now, bool may_idle_ping) {
  using Do = TimerVerdict::Do;
  const auto since = [&](Clock::time_point t) { return std::chrono::duration_cast<ms>(now - t); };
  // The server's SETTINGS, and its ACK of ours, are due within ping_timeout
  // of the connection: a peer that never sends them is not speaking HTTP/2.
  // Built only for a close: most ticks find nothing due.
  const auto within = [&] { return " within " + std::to_string(ping_timeout_.count()) + " ms"; };
  if (!settings_done() && ping_timeout_.count() > 0) {
    if (since(started_) >= ping_timeout_)
      return {Do::close, {}, errc::protocol_negotiation_failed,
              (peer_settings_seen_ ? "the server did not acknowledge our SETTINGS" : "the server sent no SETTINGS") +
                  within()};
    return {Do::wait, std::max(ping_timeout_ - since(started_), ms(1)), {}, {}};
  }
  if (ping_outstanding_) {
    if (since(ping_sent_at_) >= ping_timeout_ && last_read_ < ping_sent_at_)
      return {Do::close, {}, errc::health_check_failed, "no PING ACK" + within()};
    if (last_read_ >= ping_sent_at_) ping_outstanding_ = false;  // input arrived: alive
  }
  const auto idle = since(last_read_);
  if (!ping_outstanding_ && idle >= read_idle_timeout_) {
    if (!may_idle_ping) return {Do::wait, read_idle_timeout_, {}, {}};
    return {Do::send_ping, ping_timeout_, {}, {}};
  }
  return {Do::wait, ping_outstanding_ ? ping_timeout_ : read_idle_timeout_ - idle, {}, {}};
}

HealthCheck::ProbeVerdict HealthCheck::on_stream_timed_out() {
  if (ping_timeout_.count() <= 0) return ProbeVerdict::nothing;
  suspect_ = true;
  // No PING may ask (the last probe got no HEADERS or DATA since), and a
  // connection nobody can prove alive must not wait for traffic that may
  // never come.
  if (!ping_outstanding_ && !may_probe_) return ProbeVerdict::retire;
  if (ping_outstanding_) return ProbeVerdict::asking;
  may_probe_ = false;
  return ProbeVerdict::send_ping;
}

}  // namespace rebound::h2
