// What `rebound watch` reports per endpoint when it polls a group: the
// group's events (EndpointGroupOptions::on_event) turned into the moves of
// the current poll, lines to print when an endpoint goes down or comes
// back, each endpoint's outages (skipped until it answered again) and the
// polls each one served.
//
// Thread safety: on_event runs on the Client's I/O threads, the rest on the
// watch loop's thread; every member takes the log's lock.
#pragma once

#include <rebound/endpoint_group.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace rebound::cli {

class EndpointLog {
 public:
  /// An attempt on `endpoint` that failed; the request went on elsewhere.
  struct Move {
    std::string endpoint;
    std::string error;  ///< error_kind() of the failure, or the group's detail
  };
  /// An endpoint went down or came back.
  struct Change {
    std::size_t index = 0;
    bool up = false;
    std::int64_t time_ms = 0;  ///< wall clock, ms since the epoch
    std::string error;         ///< down: why
    std::int64_t down_for_ms = 0;  ///< up: since it went down
  };
  /// From the first failure that skipped the endpoint until it answered
  /// again (up_ms 0: still down).
  struct Outage {
    std::int64_t down_ms = 0, up_ms = 0;
    std::string error;
  };

  explicit EndpointLog(std::vector<std::string> endpoints);

  /// For EndpointGroupOptions::on_event.
  void on_event(const EndpointEvent& e);

  /// Moves and changes since the last call (those of the poll just made).
  std::vector<Move> take_moves();
  std::vector<Change> take_changes();

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  std::vector<Outage> outages(std::size_t index) const;
  std::uint64_t served(std::size_t index) const;

 private:
  struct PerEndpoint {
    std::uint64_t served = 0;
    bool down = false;
    std::vector<Outage> outages;
  };
  const std::vector<std::string> endpoints_;
  mutable std::mutex mutex_;
  std::vector<PerEndpoint> state_;
  std::vector<Move> moves_;
  std::vector<Change> changes_;
};

}  // namespace rebound::cli
