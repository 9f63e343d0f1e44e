// Connection state transitions, descriptions and the shared end of a close.
#include "conn/connection.hpp"

#include "inflight/invariant.hpp"

#include <ostream>

namespace rebound::conn {

const char* to_string(ConnState s) noexcept {
  switch (s) {
    case ConnState::ready: return "ready";
    case ConnState::busy: return "busy";
    case ConnState::draining: return "draining";
    case ConnState::closed: return "closed";
  }
  return "unknown";
}

bool transition_allowed(ConnState from, ConnState to) noexcept {
  if (from == to) return false;
  switch (from) {
    case ConnState::ready:
    case ConnState::busy: return true;  // ready<->busy, either to draining or closed
    case ConnState::draining: return to == ConnState::closed;  // never takes work again
    case ConnState::closed: return false;  // final
  }
  return false;
}

bool Connection::transition(ConnState to) {
  if (!transition_allowed(state_, to)) {
    REBOUND_INVARIANT_FAILED("illegal connection transition " + std::string(to_string(state_)) + " -> " +
                             to_string(to) + " on " + describe());
    return false;
  }
  state_ = to;
  return true;
}

void Connection::close_attempts(const Error& why, std::vector<InFlight> attempts) {
  auto* o = owner();
  if (!o) return;
  for (auto& a : attempts) {
    if (!a.ex) continue;
    if (a.outcome) {
      o->on_attempt_done(a.ex, std::move(*a.outcome));
      continue;
    }
    Error err = why;
    // The connection's own verdict holds for every attempt on it: a shutdown,
    // a peer that broke the protocol, or one that refused our certificate
    // (retrying elsewhere on the same origin would meet the same peer).
    // How far each got still differs.
    if (why.code() == errc::client_shut_down || why.code() == errc::protocol_error ||
        why.code() == errc::protocol_negotiation_failed || why.code() == errc::client_certificate_rejected) {
      err.set_reached(a.response_started ? progress::response_started
                      : a.request_sent   ? progress::sent
                                         : progress::not_sent);
    } else if (a.local_error) {
      err = Error(*a.local_error, why.where(), progress::response_started);
    } else if (a.response_started) {
      err = Error(errc::truncated_response, why.where(), progress::response_started);
    } else if (a.request_sent) {
      // A silent peer keeps its own name: the caller learns it was a health check.
      const bool silent = why.code() == errc::health_check_failed;
      err = Error(silent ? errc::health_check_failed : errc::connection_lost_after_send, why.where(),
                  progress::sent);
    } else {
      err.set_reached(progress::not_sent);
    }
    o->on_attempt_done(a.ex, std::move(err));
  }
  // The attempts' handlers may have detached us (a pool shutting down).
  if (auto* still = owner()) still->on_closed(*this, why);
}

std::string Connection::describe() const {
  return "conn #" + std::to_string(id_) + " (" + to_string(protocol_) + ", " + to_string(state_) +
         ", " + std::to_string(active()) + " active)";
}

std::ostream& operator<<(std::ostream& os, const Connection& c) { return os << c.describe(); }

}  // namespace rebound::conn
