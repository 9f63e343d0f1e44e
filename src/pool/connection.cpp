// Connection state transitions and descriptions.
#include "pool/connection.hpp"

#include <ostream>

namespace rebound::pool {

const char* to_string(ConnState s) noexcept {
  switch (s) {
    case ConnState::ready: return "ready";
    case ConnState::busy: return "busy";
    case ConnState::draining: return "draining";
    case ConnState::closed: return "closed";
  }
  return "unknown";
}

bool Connection::transition(ConnState to) {
  bool allowed = false;
  switch (state_) {
    case ConnState::ready:
    case ConnState::busy:
      allowed = true;  // ready<->busy, either to draining or closed
      break;
    case ConnState::draining:
      allowed = to == ConnState::closed;  // a draining connection never takes work again
      break;
    case ConnState::closed:
      allowed = false;  // final
      break;
  }
  if (allowed) state_ = to;
  return allowed;
}

std::string Connection::describe() const {
  return "conn #" + std::to_string(id_) + " (" + to_string(protocol_) + ", " + to_string(state_) +
         ", " + std::to_string(active()) + " active)";
}

std::ostream& operator<<(std::ostream& os, const Connection& c) { return os << c.describe(); }

}  // namespace rebound::pool
