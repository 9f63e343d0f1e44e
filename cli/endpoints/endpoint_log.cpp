// EndpointLog: see endpoint_log.hpp.
#include "endpoints/endpoint_log.hpp"

#include <chrono>

namespace rebound::cli {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string why(const EndpointEvent& e) { return e.error ? error_kind(e.error) : e.detail; }

}  // namespace

EndpointLog::EndpointLog(std::vector<std::string> endpoints)
    : endpoints_(std::move(endpoints)), state_(endpoints_.size()) {}

void EndpointLog::on_event(const EndpointEvent& e) {
  std::lock_guard lock(mutex_);
  if (e.index >= state_.size()) return;
  PerEndpoint& p = state_[e.index];
  switch (e.kind) {
    case EndpointEvent::Kind::served:
      ++p.served;
      break;
    case EndpointEvent::Kind::moved:
      moves_.push_back({e.endpoint, why(e)});
      break;
    case EndpointEvent::Kind::state_changed:
      // Down when the group starts skipping it; up when it answered again
      // (a probe succeeded). A failed probe (probing -> skipped) is the
      // same outage going on.
      if (e.to == EndpointState::skipped && !p.down) {
        p.down = true;
        p.outages.push_back({wall_ms(), 0, why(e)});
        changes_.push_back({e.index, false, p.outages.back().down_ms, why(e), 0});
      } else if (e.to == EndpointState::healthy && p.down) {
        p.down = false;
        p.outages.back().up_ms = wall_ms();
        const auto& o = p.outages.back();
        changes_.push_back({e.index, true, o.up_ms, "", o.up_ms - o.down_ms});
      }
      break;
  }
}

std::vector<EndpointLog::Move> EndpointLog::take_moves() {
  std::lock_guard lock(mutex_);
  return std::exchange(moves_, {});
}

std::vector<EndpointLog::Change> EndpointLog::take_changes() {
  std::lock_guard lock(mutex_);
  return std::exchange(changes_, {});
}

std::vector<EndpointLog::Outage> EndpointLog::outages(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return state_.at(index).outages;
}

std::uint64_t EndpointLog::served(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return state_.at(index).served;
}

}  // namespace rebound::cli
