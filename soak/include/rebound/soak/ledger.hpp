// The soak's record of every request: a compact entry per id for the whole
// run (kind, outcome, attempts, how far it got, how often servers ran it),
// and the table of requests in flight with their deadlines. Ids are dense,
// so a 30-minute run's record stays a few megabytes and does not blur the
// RSS check. Thread-safe.
#pragma once

#include <rebound/soak/workload.hpp>

#include <rebound/error.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace rebound::soak {

using Clock = std::chrono::steady_clock;

struct Entry {
  enum class State : std::uint8_t { running, succeeded, failed };
  Kind kind{};
  State state = State::running;
  std::uint8_t attempts = 0;  ///< as the client reported them
  progress reached = progress::not_sent;
  std::uint8_t runs = 0;      ///< times a server's request log shows it (saturates at 255)
  std::uint8_t client = 0;
};

/// A request in flight.
struct Flight {
  Spec spec;
  std::shared_ptr<Observed> seen;
  int client = 0;
  Clock::time_point started;
  Clock::time_point deadline;  ///< started + the request's timeout
};

class Ledger {
 public:
  /// The next request id (ids start at 1).
  std::uint64_t next_id();
  /// Records `flight` as started.
  void start(std::shared_ptr<Flight> flight);
  /// Records the outcome; returns how many times `id` has now completed.
  int complete(std::uint64_t id, bool ok, int attempts, progress reached);
  /// Counts one run of `id` in a server log; returns the entry after it,
  /// or nullopt for an id never issued.
  std::optional<Entry> add_run(std::uint64_t id);
  std::optional<Entry> entry(std::uint64_t id) const;
  /// Every entry, indexed by id - 1 (a copy, for the final checks).
  std::vector<Entry> entries() const;

  /// Requests in flight whose deadline + `grace` passed before `now`.
  std::vector<std::shared_ptr<Flight>> overdue(Clock::time_point now, std::chrono::milliseconds grace) const;
  std::size_t in_flight() const;
  std::shared_ptr<Flight> flight(std::uint64_t id) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  std::map<std::uint64_t, std::shared_ptr<Flight>> flying_;
};

}  // namespace rebound::soak
