// LeaderElector: the election loop. One explicit phase machine
// (acquiring -> leading -> releasing -> stopped) driven on the run thread;
// every decision comes from election_state.hpp, every request goes through
// LeaseApi, leadership starts and ends only in start_leading() and
// end_leading(), and every callback runs on the CallbackQueue's thread.
#include "rebound/election/leader_elector.hpp"

#include "callback_queue.hpp"
#include "election_state.hpp"
#include "lease_api.hpp"

#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace rebound::lease {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds remaining(Clock::time_point deadline) {
  return std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
}

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
  int http_status = 0;
  std::string error_kind;
  std::string message;
  milliseconds took{0};
};

// The config with its identity made unique to this elector (unless asked not to).
LeaderElectionConfig with_unique_identity(LeaderElectionConfig c) {
  if (!c.unique_identity) return c;
  std::random_device entropy;
  char suffix[10];
  std::snprintf(suffix, sizeof suffix, "_%08x", static_cast<unsigned>(entropy()));
  c.identity += suffix;
  return c;
}

// The config's bearer token fields as the client's credentials for the
// Lease API's origin, unless the client options bring their own.
rebound::Options with_bearer_token(rebound::Options o, const LeaderElectionConfig& cfg) {
  if (o.credentials.source) return o;
  if (!cfg.bearer_token_file.empty()) o.credentials = {credentials::bearer_file(cfg.bearer_token_file), cfg.base_url};
  else if (!cfg.bearer_token.empty()) o.credentials = {credentials::bearer(cfg.bearer_token), cfg.base_url};
  return o;
}

}  // namespace

struct LeaderElector::Impl {
  explicit Impl(LeaderElectionConfig c)
      : cfg(with_unique_identity(std::move(c))),
        api(with_bearer_token(detail::election_client_options(cfg), cfg), cfg.base_url, cfg.namespace_, cfg.name),
        duration_seconds(detail::whole_seconds_up(cfg.lease_duration)),
        span(detail::leadership_span(cfg.lease_duration, detail::safety_margin(cfg))),
        rng(std::random_device{}()) {}

  const LeaderElectionConfig cfg;
  detail::LeaseApi api;
  const std::int32_t duration_seconds;
  const milliseconds span;  // leadership bought by a write, from its send time

  // --- run thread only ---
  detail::Observation observed;
  std::string reported_leader;  // last holder passed to on_new_leader
  std::mt19937_64 rng;

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
  // Last: destroyed first, running what was posted while the rest exists.
  mutable detail::CallbackQueue callbacks;

  Clock::time_point valid_until() const { return Clock::time_point(Clock::duration(valid_until_ticks.load())); }
  bool leading_now() const { return leading.load() && Clock::now() < valid_until(); }

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
  // A fresh cancellation for the next attempt; nullopt once stopping.
  std::optional<Cancellation> begin_attempt() {
    std::lock_guard lock(mutex);
    if (stop_requested) return std::nullopt;
    inflight = Cancellation{};
    return inflight;
  }

  // --- events ---
  ElectionEvent event(ElectionEventKind kind) const {
    ElectionEvent e;
    e.kind = kind;
    e.time = Clock::now();
    e.wall_time = std::chrono::system_clock::now();
    e.identity = cfg.identity;
    e.holder = observed.holder();
    e.resource_version = observed.resource_version();
    return e;
  }
  void emit(ElectionEvent e) const {
    if (cfg.on_event) callbacks.post([this, e = std::move(e)] { cfg.on_event(e); });
  }
  /// `valid_until`: for acquired and renewed, the leadership the write bought.
  void emit(ElectionEventKind kind, const Attempt& a, std::string message = {},
            Clock::time_point valid_until = {}) const {
    auto e = event(kind);
    e.valid_until = valid_until;
    e.http_status = a.http_status;
    e.error_kind = a.error_kind;
    e.message = message.empty() ? a.message : std::move(message);
    e.took = a.took;
    emit(std::move(e));
  }

  // Reports a newly observed holder once (client-go's maybeReportTransition).
  void note_leader() {
    const std::string& holder = observed.holder();
    if (holder == reported_leader) return;
    reported_leader = holder;
    {
      std::lock_guard lock(mutex);
      leader = holder;
    }
    if (holder.empty()) return;  // free: nobody to report
    emit(event(ElectionEventKind::new_leader));
    if (cfg.on_new_leader) callbacks.post([this, holder] { cfg.on_new_leader(holder); });
  }

  void observe(detail::ApiResult& r) {
    observed.observe(std::move(r.object), *r.lease, Clock::now());
    note_leader();
  }

  // The only places leadership starts and ends, so the callbacks pair up.
  // Validity is set before the flag, and the flag cleared first, so
  // is_leader() is never true with a stale bound.
  void start_leading(Clock::time_point until) {
    valid_until_ticks = until.time_since_epoch().count();
    if (leading.exchange(true)) return;
    if (cfg.on_started_leading) callbacks.post(cfg.on_started_leading);
  }
  void end_leading() {
    if (!leading.exchange(false)) return;
    valid_until_ticks = 0;
    if (cfg.on_stopped_leading) callbacks.post(cfg.on_stopped_leading);
  }

  // --- one attempt: client-go's tryAcquireOrRenew ---
  Attempt try_acquire_or_renew(Clock::time_point deadline) {
    const auto t0 = Clock::now();
    Attempt a = attempt(deadline);
    a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
    // A request cut short by stop() is not a failure worth reporting.
    if (a.outcome == AttemptOutcome::failed && stopping()) a.outcome = AttemptOutcome::stopped;
    return a;
  }

  static Attempt failure(AttemptOutcome outcome, const detail::ApiResult& r) {
    Attempt a;
    a.outcome = outcome;
    a.http_status = r.status;
    a.error_kind = r.error_kind;
    a.message = r.message;
    return a;
  }

  Attempt attempt(Clock::time_point deadline) {
    const auto cancel = begin_attempt();
    if (!cancel) {
      Attempt a;
      a.outcome = AttemptOutcome::stopped;
      return a;
    }

    auto got = api.get(remaining(deadline), *cancel);
    if (got.outcome == detail::ApiOutcome::not_found) {
      // No lease: create it, holding it.
      observed.clear();
      note_leader();
      Lease fresh;
      fresh.metadata.name = cfg.name;
      fresh.metadata.namespace_ = cfg.namespace_;
      fresh.spec = detail::next_spec(nullptr, false, cfg.identity, now_micro(), duration_seconds);
      observed.note_sent(fresh.spec);
      Attempt a;
      a.write_sent = Clock::now();
      auto created = api.create(to_json(fresh), remaining(deadline), *cancel);
      if (created.outcome == detail::ApiOutcome::conflict) return failure(AttemptOutcome::conflict, created);
      if (created.outcome != detail::ApiOutcome::ok) return failure(AttemptOutcome::failed, created);
      observe(created);
      observed.note_written();
      a.outcome = AttemptOutcome::success;
      a.created = true;
      a.http_status = created.status;
      return a;
    }
    if (got.outcome != detail::ApiOutcome::ok) return failure(AttemptOutcome::failed, got);

    observe(got);
    const auto now = Clock::now();
    if (detail::decide(observed, cfg.identity, now, cfg.lease_duration) == detail::Verdict::held_by_other) {
      Attempt a = failure(AttemptOutcome::held_by_other, got);
      const auto left = std::chrono::duration_cast<milliseconds>(detail::expiry(observed, cfg.lease_duration) - now);
      a.message = "held by " + observed.holder() +
                  (observed.holder() == cfg.identity ? " (written by another process with our identity)" : "") +
                  "; expires in " + std::to_string(left.count()) + " ms by our clock unless renewed";
      return a;
    }

    // Ours, free or expired: write it, conditional on the version we read.
    Attempt a;
    a.previous_holder = observed.holder();
    auto object = observed.object();
    const auto spec =
        detail::next_spec(&observed.spec(), detail::ours(observed, cfg.identity), cfg.identity, now_micro(), duration_seconds);
    write_spec(object, spec);
    observed.note_sent(spec);
    a.write_sent = Clock::now();
    auto updated = api.update(object, remaining(deadline), *cancel);
    if (updated.outcome == detail::ApiOutcome::conflict) return failure(AttemptOutcome::conflict, updated);
    if (updated.outcome != detail::ApiOutcome::ok) return failure(AttemptOutcome::failed, updated);
    observe(updated);
    observed.note_written();
    a.outcome = AttemptOutcome::success;
    a.http_status = updated.status;
    return a;
  }

  // Reports a non-success attempt; true when the attempt was a stop.
  bool report(const Attempt& a) {
    switch (a.outcome) {
      case AttemptOutcome::held_by_other: emit(ElectionEventKind::held_by_other, a); return false;
      case AttemptOutcome::conflict: emit(ElectionEventKind::conflict, a); return false;
      case AttemptOutcome::failed: emit(ElectionEventKind::failed, a); return false;
      case AttemptOutcome::stopped: return true;
      case AttemptOutcome::success: return false;
    }
    return false;
  }

  // --- the phases ---
  Phase acquire() {
    for (;;) {
      // Each attempt gets at most a retry period, like a renewal would.
      const auto now = Clock::now();
      Attempt a = try_acquire_or_renew(detail::attempt_deadline(now, cfg.retry_period, now + cfg.renew_deadline));
      if (a.outcome == AttemptOutcome::success) {
        const auto until = a.write_sent + span;
        if (Clock::now() < until) {
          std::string how = a.created                           ? "created the lease"
                            : a.previous_holder == cfg.identity ? "the lease was still ours"
                            : a.previous_holder.empty()         ? "took the free lease"
                                                                : "took over from " + a.previous_holder;
          emit(ElectionEventKind::acquired, a, std::move(how), until);
          start_leading(until);
          return Phase::leading;
        }
        // Answered after the leadership it bought had passed (the process
        // was paused or starved): not leading. The record is ours, so the
        // next attempt renews it.
        a.outcome = AttemptOutcome::failed;
        a.error_kind = "too_late";
        a.message = "the write was answered after the leadership it bought had ended";
      }
      if (report(a)) return Phase::stopped;
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      if (!sleep_until(Clock::now() + detail::jittered(cfg.retry_period, cfg.jitter_factor, unit(rng))))
        return Phase::stopped;
    }
  }

  Phase lost(std::string why, const Attempt& a) {
    auto e = event(ElectionEventKind::lost);
    e.error_kind = a.error_kind;
    e.http_status = a.http_status;
    e.message = std::move(why);
    emit(std::move(e));
    end_leading();
    if (!cfg.rejoin_after_loss) return Phase::stopped;
    // The old leadership's work has stopped before this one may lead again.
    callbacks.drain();
    return Phase::acquiring;
  }

  Phase expired(const char* when) {
    Attempt a;
    a.error_kind = "expired";
    return lost(std::string("leadership expired ") + when + " (the process was paused or starved)", a);
  }

  Phase stop_leading() {
    end_leading();
    return cfg.release_on_cancel ? Phase::releasing : Phase::stopped;
  }

  Phase lead() {
    for (;;) {
      if (!sleep_until(std::min(Clock::now() + cfg.retry_period, valid_until()))) return stop_leading();
      // A timer that fired late (a paused process) finds the bound first:
      // nothing is written after it.
      if (Clock::now() >= valid_until()) return expired("before the next renewal was due to be sent");
      const auto deadline = detail::renew_round_deadline(Clock::now(), cfg.renew_deadline, valid_until());
      for (;;) {
        Attempt a = try_acquire_or_renew(detail::attempt_deadline(Clock::now(), cfg.retry_period, deadline));
        if (a.outcome == AttemptOutcome::success) {
          // An answer processed after leadership lapsed (sent before a
          // pause, read after it) renews nothing: others may already wait
          // out the lease, and the work has been told to stop by is_leader().
          if (Clock::now() >= valid_until()) return expired("before the renewal's answer was read");
          const auto until = a.write_sent + span;
          valid_until_ticks = until.time_since_epoch().count();
          emit(ElectionEventKind::renewed, a, {}, until);
          break;
        }
        if (report(a)) return stop_leading();
        // Another holder's valid lease: ours is gone, no point retrying.
        if (a.outcome == AttemptOutcome::held_by_other) return lost("lease taken by " + observed.holder(), a);
        const auto now = Clock::now();
        if (now >= deadline) return lost("renew deadline passed: " + a.error_kind + ": " + a.message, a);
        if (!sleep_until(std::min(now + cfg.retry_period, deadline))) return stop_leading();
        if (Clock::now() >= deadline) return lost("renew deadline passed: " + a.error_kind + ": " + a.message, a);
      }
    }
  }

  void release() {
    // Nothing to hand back unless the last record we saw is ours.
    if (!detail::ours(observed, cfg.identity)) return;
    // on_stopped_leading has stopped the work before anyone may take over.
    callbacks.drain();
    // stop() cancelled the attempts; the release gets its own cancellation.
    const Cancellation cancel;
    const auto deadline = Clock::now() + cfg.renew_deadline;
    const auto t0 = Clock::now();
    detail::ApiResult r;
    // Two tries: a renewal cut short by stop() may have been applied, leaving
    // our resourceVersion stale; re-read and release if it is still ours.
    for (int i = 0; i < 2; ++i) {
      auto object = observed.object();
      write_spec(object, detail::released_spec(observed.spec(), now_micro()));
      r = api.update(object, remaining(deadline), cancel);
      if (r.outcome == detail::ApiOutcome::ok) {
        observe(r);
        Attempt a;
        a.http_status = r.status;
        a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
        emit(ElectionEventKind::released, a, "released the lease");
        return;
      }
      if (r.outcome != detail::ApiOutcome::conflict || i == 1) break;
      auto again = api.get(remaining(deadline), cancel);
      if (again.outcome != detail::ApiOutcome::ok) {
        r = std::move(again);
        break;
      }
      observe(again);
      if (!detail::ours(observed, cfg.identity)) {
        r.message = "the lease is no longer ours (held by " + observed.holder() + ")";
        break;
      }
    }
    Attempt a = failure(AttemptOutcome::failed, r);
    a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
    emit(ElectionEventKind::release_failed, a);
  }

  void run() {
    run_thread = std::this_thread::get_id();
    Phase phase = Phase::acquiring;
    while (phase != Phase::stopped) {
      switch (phase) {
        case Phase::acquiring: phase = acquire(); break;
        case Phase::leading: phase = lead(); break;
        case Phase::releasing:
          release();
          phase = Phase::stopped;
          break;
        case Phase::stopped: break;
      }
    }
    emit(event(ElectionEventKind::stopped));
    // Every callback this run caused has returned before run() does.
    callbacks.drain();
  }
};

LeaderElector::LeaderElector(LeaderElectionConfig config) {
  if (auto why = config.validate(); !why.empty()) throw std::invalid_argument("LeaderElectionConfig: " + why);
  impl_ = std::make_unique<Impl>(std::move(config));
}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::run() {
  if (impl_->ran.exchange(true)) throw std::logic_error("LeaderElector::run: already ran");
  impl_->run();
}

void LeaderElector::start() {
  if (impl_->ran.exchange(true)) throw std::logic_error("LeaderElector::start: already ran");
  std::lock_guard lock(impl_->join_mutex);
  impl_->thread = std::thread([this] { impl_->run(); });
}

void LeaderElector::stop() {
  std::optional<Cancellation> inflight;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
    inflight = impl_->inflight;
  }
  if (inflight) inflight->cancel();
  impl_->wake.notify_all();
  // From the run thread or a callback joining would deadlock (the run
  // thread may wait for the callbacks: a release waits for
  // on_stopped_leading); the loop sees the flag on its own. Checked before
  // taking join_mutex, which another stop() may hold while it joins.
  if (impl_->run_thread.load() == std::this_thread::get_id() || impl_->callbacks.on_queue_thread()) return;
  std::lock_guard lock(impl_->join_mutex);
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool LeaderElector::is_leader() const noexcept { return impl_->leading_now(); }

std::chrono::steady_clock::time_point LeaderElector::valid_until() const noexcept {
  return impl_->leading.load() ? impl_->valid_until() : std::chrono::steady_clock::time_point{};
}

const std::string& LeaderElector::identity() const noexcept { return impl_->cfg.identity; }

std::string LeaderElector::leader() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->leader;
}

const LeaderElectionConfig& LeaderElector::config() const noexcept { return impl_->cfg; }

}  // namespace rebound::lease
