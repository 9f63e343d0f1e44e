// Endpoint health: the state machine, what errors say about an endpoint,
// and the pick. See endpoint_health.hpp.
#include "endpoints/endpoint_health.hpp"

#include "retry/retry.hpp"

namespace rebound::endpoints {

Signal signal_of(const error_code& code) noexcept {
  if (code.category() != error_category()) {
    // Foreign codes that reach callers are transport failures (refused,
    // reset, eof) or timeouts; both say the endpoint did not serve.
    return is_connection_failure(code) ? Signal::failed : Signal::no_verdict;
  }
  switch (static_cast<errc>(code.value())) {
    // The endpoint could not be reached or lost the connection: skip it.
    case errc::resolve_failed:
    case errc::connection_refused:
    case errc::connect_timeout:
    case errc::tls_handshake_failed:
    case errc::protocol_negotiation_failed:
    case errc::connection_lost_after_send:
    case errc::truncated_response:
    case errc::health_check_failed:
    case errc::response_header_timeout:
    case errc::protocol_error:
    case errc::refused_by_server:  // GOAWAY or REFUSED_STREAM: it is going away or shedding
    case errc::certificate_verify_failed:
    case errc::client_certificate_rejected:
    case errc::proxy_unreachable:
    case errc::proxy_tunnel_refused:
      return Signal::failed;
    // A pooled connection the server closed before the request was
    // written: an idle close, or a restart - the next dial tells which.
    case errc::connection_closed:
    // The request's own end, or the caller's or this client's doing.
    case errc::invalid_url:
    case errc::unsupported_scheme:
    case errc::invalid_request:
    case errc::deadline_exceeded:
    case errc::response_too_large:
    case errc::queue_full:
    case errc::stream_reset:
    case errc::cancelled:
    case errc::client_shut_down:
    case errc::retries_exhausted:
    case errc::credentials_failed:
    case errc::tls_configuration:
    case errc::body_idle_timeout:
    case errc::callback_threw:
    case errc::proxy_auth_required:
    case errc::http2_required:
    // The redirect and decoding layer's verdicts on an answer the endpoint gave.
    case errc::too_many_redirects:
    case errc::redirect_loop:
    case errc::content_decoding_failed:
      return Signal::no_verdict;
  }
  return Signal::no_verdict;
}

void EndpointHealth::skip(Clock::time_point now, const SkipBackoff& backoff, double random01) {
  ++failures_;
  state_ = EndpointState::skipped;
  since_ = now;
  until_ = now + retry::backoff_delay(failures_, backoff.base, backoff.max, random01);
}

EndpointState EndpointHealth::on(Signal s, Clock::time_point now, Clock::time_point attempt_started,
                                 const SkipBackoff& backoff, double random01) {
  const EndpointState before = state_;
  // An attempt older than the current state says nothing about it.
  const bool current = attempt_started >= since_;
  switch (state_) {
    case EndpointState::healthy:
      switch (s) {
        case Signal::answered: failures_ = 0; break;
        case Signal::failed:
          if (current) skip(now, backoff, random01);
          break;
        case Signal::no_verdict: break;
        case Signal::probe_sent:  // only skipped endpoints are probed
          break;
      }
      break;
    case EndpointState::skipped:
      switch (s) {
        case Signal::answered:  // it answers again
          if (current) {
            state_ = EndpointState::healthy;
            failures_ = 0;
            since_ = now;
          }
          break;
        case Signal::failed:  // a forced attempt failed: back off longer
          if (current) skip(now, backoff, random01);
          break;
        case Signal::no_verdict: break;
        case Signal::probe_sent:
          state_ = EndpointState::probing;
          since_ = now;
          break;
      }
      break;
    case EndpointState::probing:
      switch (s) {
        case Signal::answered:
          state_ = EndpointState::healthy;
          failures_ = 0;
          since_ = now;
          break;
        case Signal::failed:
          // Any failure after the probe went out: the probe's own, or a
          // GOAWAY/dial failure meanwhile.
          if (current) skip(now, backoff, random01);
          break;
        case Signal::no_verdict:  // the probe told nothing: the next request probes again
          if (current) {
            state_ = EndpointState::skipped;
            since_ = now;
            until_ = now;
          }
          break;
        case Signal::probe_sent: break;
      }
      break;
  }
  return before;
}

std::optional<EndpointTable::Pick> EndpointTable::pick(Clock::time_point now, const std::vector<bool>& tried,
                                                       const SkipBackoff& backoff, double random01) {
  const std::size_t n = health_.size();
  auto open = [&](std::size_t i) { return i >= tried.size() || !tried[i]; };
  auto probe = [&](std::size_t i) -> Pick {
    health_[i].on(Signal::probe_sent, now, now, backoff, random01);
    return {i, true};
  };
  // 1. A skipped endpoint whose backoff is over: is it back?
  std::optional<std::size_t> due;
  for (std::size_t i = 0; i < n; ++i)
    if (open(i) && health_[i].backoff_over(now) && (!due || health_[i].skipped_until() < health_[*due].skipped_until()))
      due = i;
  if (due) return probe(*due);
  // 2. The healthy ones in turn.
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (next_ + k) % n;
    if (open(i) && health_[i].state() == EndpointState::healthy) {
      next_ = (i + 1) % n;
      return Pick{i, false};
    }
  }
  // 3. None healthy: the skipped one whose backoff ends first, rather than failing.
  std::optional<std::size_t> soonest;
  for (std::size_t i = 0; i < n; ++i)
    if (open(i) && health_[i].state() == EndpointState::skipped &&
        (!soonest || health_[i].skipped_until() < health_[*soonest].skipped_until()))
      soonest = i;
  if (soonest) return probe(*soonest);
  // 4. Every endpoint left is being probed: ride along rather than fail.
  for (std::size_t i = 0; i < n; ++i)
    if (open(i)) return Pick{i, false};
  return std::nullopt;
}

}  // namespace rebound::endpoints
