// One soak client: a rebound::Client of one ClientMode that keeps a few
// requests in flight against the two servers of its scheme, checks each
// completion as it arrives, and starts the next. Its event trace attributes
// retries to requests. Also sends the recovery probes at the end.
#pragma once

#include <rebound/soak/event_trace.hpp>
#include <rebound/soak/injector.hpp>
#include <rebound/soak/ledger.hpp>
#include <rebound/soak/monitor.hpp>
#include <rebound/soak/tally.hpp>
#include <rebound/soak/workload.hpp>

#include <rebound/client.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace rebound::soak {

/// What every worker shares.
struct Shared {
  Ledger& ledger;
  Monitor& monitor;
  Tally& tally;
  const Injector& injector;
  Clock::time_point t0;
  std::chrono::milliseconds grace;
};

struct WorkerSetup {
  int index = 0;
  ClientMode mode{};
  ServerSlot servers[2]{};   ///< the two servers of the mode's scheme
  std::string urls[2];       ///< their proxies' URLs
  Options options;           ///< on_event and http_version are set by the worker
  std::uint64_t seed = 0;    ///< the worker's request mix
  int depth = 3;             ///< requests kept in flight
};

class Worker {
 public:
  Worker(WorkerSetup setup, Shared shared);
  ~Worker();

  void start();
  /// No new requests from now on; those in flight run to completion.
  void stop_issuing() { issuing_ = false; }
  /// One GET to each of its servers, which must succeed.
  void probe();
  std::size_t in_flight() const { return flying_.load(); }
  Client& client() { return *client_; }
  ClientMode mode() const { return setup_.mode; }
  int index() const { return setup_.index; }
  /// Debugging context for a violation concerning `flight`.
  std::string context(const Flight& flight, const std::string& outcome, bool with_pools);
  /// Debugging context for a violation about the client as a whole.
  std::string recent_context();
  /// The client's recent events naming request `id`, one per line.
  std::string events_about(std::uint64_t id) const;

 private:
  void launch(std::optional<Spec> fixed = std::nullopt, bool probe = false);
  /// The trace's findings: a retry the request may not have, two attempts at once.
  void on_retry_event(std::uint64_t id, progress failed_at, const std::string& line);
  void on_overlapping_attempt(std::uint64_t id, const std::string& line);
  void on_done(const std::shared_ptr<Flight>& flight, bool probe, Result<Response> result);
  /// The client's pools, or a note when its I/O thread does not answer.
  std::string pools();
  std::string url_of(ServerSlot s) const { return s == setup_.servers[0] ? setup_.urls[0] : setup_.urls[1]; }

  WorkerSetup setup_;
  Shared shared_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
  std::atomic<bool> issuing_{true};
  std::atomic<bool> closing_{false};
  std::atomic<std::size_t> flying_{0};
  EventTrace trace_;                 // before client_: its hook must outlive the client
  std::unique_ptr<Client> client_;
};

}  // namespace rebound::soak
