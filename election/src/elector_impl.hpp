// LeaderElector's state and the declarations of its steps, shared by the
// files that implement them: leader_elector.cpp (the phase machine and
// the public API), elector_callbacks.cpp (events, the observed holder, the
// only places leadership starts and ends), elector_writes.cpp (one
// tryAcquireOrRenew on a Lease, and the release) and elector_etcd.cpp (the
// same two steps on an etcd key: the lock backend chosen by
// LeaderElectionConfig::etcd_endpoints). Private to the election module.
//
// Thread safety: the members marked "run thread only" are touched by the
// run thread alone; the others as their comments say.
#pragma once

#include "rebound/election/leader_elector.hpp"

#include "callback_queue.hpp"
#include "election_state.hpp"
#include "etcd_api.hpp"
#include "etcd_lock_state.hpp"
#include "lease_api.hpp"
#include "term_thread.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

namespace rebound::lease {

struct LeaderElector::Impl {
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;

  enum class Phase {
    acquiring,  ///< candidate: attempt, then wait a jittered retry_period
    leading,    ///< leader: a renewal round every retry_period, each within its deadline
    releasing,  ///< stopped while leading: hand the lease back, then stop
    stopped,    ///< run() returns
  };

  enum class AttemptOutcome {
    success,        ///< we hold the lease: created, taken over or renewed
    held_by_other,  ///< someone else holds a valid lease
    conflict,       ///< 409: someone else wrote between our read and our write
    failed,         ///< transport error or unexpected answer
    stopped,        ///< stop() interrupted the attempt
  };

  // One tryAcquireOrRenew, as the loop and the events need it.
  struct Attempt {
    AttemptOutcome outcome = AttemptOutcome::failed;
    bool created = false;
    std::string previous_holder;      ///< holder before our successful write
    Clock::time_point write_sent{};   ///< when the successful write was sent
    /// Leadership the success bought from write_sent, when the backend
    /// decides it (etcd: its granted TTL less the margin); 0: `span`.
    milliseconds bought{0};
    int http_status = 0;
    std::string error_kind;
    std::string message;
    milliseconds took{0};
  };

  static milliseconds remaining(Clock::time_point deadline) {
    return std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  }

  explicit Impl(LeaderElectionConfig c);

  const LeaderElectionConfig cfg;
  std::optional<detail::LeaseApi> api;   // the Lease backend (no etcd_endpoints)
  std::unique_ptr<detail::EtcdApi> etcd;  // the etcd backend (etcd_endpoints)
  const std::int32_t duration_seconds;
  const milliseconds span;  // leadership bought by a write, from its send time

  // --- run thread only ---
  detail::Observation observed;         // the Lease backend's record
  detail::EtcdLeaseState etcd_lease;     // the etcd backend's lease...
  std::string etcd_holder;               // ...the key's holder (its value) as last read
  std::int64_t etcd_key_revision = 0;    // ...and its mod revision
  bool etcd_key_ours = false;            // the last read found the key on our lease
  std::int64_t etcd_watch_from = 0;      // the revision after the last read (0: none to watch from)
  std::string reported_leader;  // last holder passed to on_new_leader
  std::mt19937_64 rng;
  std::shared_ptr<detail::TermThread> term;  // the current term's on_started_leading

  // --- shared; mutex guards the non-atomics ---
  std::atomic<bool> leading{false};
  std::atomic<Clock::rep> valid_until_ticks{0};  // steady time since epoch; meaningful while leading
  std::atomic<bool> ran{false};
  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stop_requested = false;
  std::optional<Cancellation> inflight;  // the current attempt's, cancelled by stop()
  std::string leader;
  std::mutex join_mutex;  // one stop() at a time joins
  std::thread thread;
  std::atomic<std::thread::id> run_thread{};  // set while run() runs
  // How long run(), a release, stop() and the destructor wait for the
  // callbacks (the safety margin, at least a second), and how long
  // on_stopped_leading waits for its term's on_started_leading to return.
  const milliseconds callback_bound;
  const milliseconds started_grace;
  // Last: destroyed first, running what was posted while the rest exists.
  mutable detail::CallbackQueue callbacks;

  Clock::time_point valid_until() const { return Clock::time_point(Clock::duration(valid_until_ticks.load())); }
  bool leading_now() const { return leading.load() && Clock::now() < valid_until(); }
  // The holder last observed, whichever backend holds the lock.
  const std::string& holder() const { return etcd ? etcd_holder : observed.holder(); }
  // When a success's leadership ends.
  Clock::time_point bought_until(const Attempt& a) const {
    return a.write_sent + (a.bought > milliseconds::zero() ? a.bought : span);
  }

  // --- stop and waits ---
  bool stopping() const {
    std::lock_guard lock(mutex);
    return stop_requested;
  }
  // False when stop() came first.
  bool sleep_until(Clock::time_point t) {
    std::unique_lock lock(mutex);
    return !wake.wait_until(lock, t, [this] { return stop_requested; });
  }
  enum class Woken { timer, stop, key_changed };
  // Waits until `t` or stop() - and, on the etcd backend after a read of
  // the key, until the key changes (etcd_key_watch.hpp), which `what` then
  // describes. Lease backend: sleep_until. (elector_etcd.cpp)
  Woken wait_watching_key(Clock::time_point t, std::string* what = nullptr);
  // A fresh cancellation for the next attempt; nullopt once stopping.
  std::optional<Cancellation> begin_attempt() {
    std::lock_guard lock(mutex);
    if (stop_requested) return std::nullopt;
    inflight = Cancellation{};
    return inflight;
  }

  // --- events and leadership (elector_callbacks.cpp) ---
  ElectionEvent event(ElectionEventKind kind) const;
  void emit(ElectionEvent e) const;
  /// `valid_until`: for acquired and renewed, the leadership the write bought.
  void emit(ElectionEventKind kind, const Attempt& a, std::string message = {},
            Clock::time_point valid_until = {}) const;
  // Reports a newly observed holder once (client-go's maybeReportTransition).
  void note_leader();
  void observe(detail::ApiResult& r);
  // The only places leadership starts and ends, so the callbacks pair up.
  void start_leading(Clock::time_point until);
  void end_leading();

  // --- the Lease writes (elector_writes.cpp): client-go's tryAcquireOrRenew, the release ---
  Attempt try_acquire_or_renew(Clock::time_point deadline);
  static Attempt failure(AttemptOutcome outcome, const detail::ApiResult& r);
  Attempt attempt(Clock::time_point deadline);
  Attempt write_over_observed(Clock::time_point deadline, const Cancellation& cancel);
  // Reports a non-success attempt; true when the attempt was a stop.
  bool report(const Attempt& a);
  void release();
  // on_stopped_leading did not return in time: no release (reported).
  void release_skipped();

  // --- the etcd backend (elector_etcd.cpp): the same two steps on an etcd key ---
  Attempt etcd_attempt(Clock::time_point deadline, const Cancellation& cancel);
  static Attempt etcd_failure(const grpc::Status& s, const std::string& endpoint, const char* call);
  void etcd_release();

  // --- the phases (leader_elector.cpp) ---
  Phase acquire();
  Phase lost(std::string why, const Attempt& a);
  Phase expired(const char* when);
  Phase stop_leading();
  Phase lead();
  void run();
};

}  // namespace rebound::lease
