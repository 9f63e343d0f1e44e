// LeaderElector: the election loop. One explicit phase machine
// (acquiring -> leading -> releasing -> stopped) driven on the run thread;
// every decision comes from election_state.hpp, every request goes through
// LeaseApi (elector_writes.cpp), leadership starts and ends only in
// start_leading() and end_leading() (elector_callbacks.cpp), and every
// callback runs on the CallbackQueue's thread. Also the public API.
#include "elector_impl.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace rebound::lease {

namespace {

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

LeaderElector::Impl::Impl(LeaderElectionConfig c)
    : cfg(with_unique_identity(std::move(c))),
      duration_seconds(detail::whole_seconds_up(cfg.lease_duration)),
      span(detail::leadership_span(cfg.lease_duration, detail::safety_margin(cfg))),
      rng(std::random_device{}()),
      callback_bound(std::max<milliseconds>(detail::safety_margin(cfg), std::chrono::seconds(1))),
      started_grace(std::max<milliseconds>(detail::safety_margin(cfg) / 2, milliseconds(200))),
      callbacks(callback_bound) {
  if (cfg.etcd_endpoints.empty())
    api.emplace(with_bearer_token(detail::election_client_options(cfg), cfg), cfg.base_url, cfg.namespace_, cfg.name);
  else
    etcd = std::make_unique<detail::EtcdApi>(detail::etcd_client_options(cfg), cfg.etcd_endpoints);
}

auto LeaderElector::Impl::acquire() -> Phase {
  for (;;) {
    // An attempt may take up to a renew deadline: a slow API server still
    // works, and the leadership a write buys counts from its send time, so
    // a slow answer shortens it rather than stretching it.
    Attempt a = try_acquire_or_renew(Clock::now() + cfg.renew_deadline);
    if (a.outcome == AttemptOutcome::success) {
      const auto until = bought_until(a);
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
    // On etcd a change to the key (a release, an expiry) ends the wait:
    // the next attempt goes at once instead of up to a retry period later.
    const auto next = Clock::now() + detail::jittered(cfg.retry_period, cfg.jitter_factor, unit(rng));
    if (wait_watching_key(next) == Woken::stop) return Phase::stopped;
  }
}

auto LeaderElector::Impl::lost(std::string why, const Attempt& a) -> Phase {
  auto e = event(ElectionEventKind::lost);
  e.error_kind = a.error_kind;
  e.http_status = a.http_status;
  e.message = std::move(why);
  emit(std::move(e));
  end_leading();
  if (!cfg.rejoin_after_loss) return Phase::stopped;
  // The old leadership's work has stopped before this one may lead again.
  while (!callbacks.drain_for(callback_bound))
    if (stopping()) return Phase::stopped;
  return Phase::acquiring;
}

auto LeaderElector::Impl::expired(const char* when) -> Phase {
  Attempt a;
  a.error_kind = "expired";
  return lost(std::string("leadership expired ") + when + " (the process was paused or starved)", a);
}

auto LeaderElector::Impl::stop_leading() -> Phase {
  end_leading();
  return cfg.release_on_cancel ? Phase::releasing : Phase::stopped;
}

auto LeaderElector::Impl::lead() -> Phase {
  for (;;) {
    std::string what;
    switch (wait_watching_key(std::min(Clock::now() + cfg.retry_period, valid_until()), &what)) {
      case Woken::stop: return stop_leading();
      case Woken::key_changed: {
        // Only another party changes the key under a leader (deleted it,
        // revoked our lease, wrote its own value): the lock is no longer
        // ours, and a candidate watching it may take it now, so leadership
        // ends now rather than at the next round.
        etcd_key_ours = false;
        Attempt a;
        a.error_kind = "key_changed";
        return lost("the key was " + what + " behind the leader", a);
      }
      case Woken::timer: break;
    }
    // A timer that fired late (a paused process) finds the bound first:
    // nothing is written after it.
    if (Clock::now() >= valid_until()) return expired("before the next renewal was due to be sent");
    const auto deadline = detail::renew_round_deadline(Clock::now(), cfg.renew_deadline, valid_until());
    for (;;) {
      // The attempt may use the rest of the round (bounded by valid_until):
      // capping it at a retry period failed every renewal against an API
      // server slower than that, although it worked.
      Attempt a = try_acquire_or_renew(deadline);
      if (a.outcome == AttemptOutcome::success) {
        // An answer processed after leadership lapsed (sent before a
        // pause, read after it) renews nothing: others may already wait
        // out the lease, and the work has been told to stop by is_leader().
        if (Clock::now() >= valid_until()) return expired("before the renewal's answer was read");
        const auto until = bought_until(a);
        valid_until_ticks = until.time_since_epoch().count();
        emit(ElectionEventKind::renewed, a, {}, until);
        break;
      }
      if (report(a)) return stop_leading();
      // Another holder's valid lease: ours is gone, no point retrying.
      if (a.outcome == AttemptOutcome::held_by_other) return lost("lease taken by " + holder(), a);
      const auto now = Clock::now();
      if (now >= deadline) return lost("renew deadline passed: " + a.error_kind + ": " + a.message, a);
      if (!sleep_until(std::min(now + cfg.retry_period, deadline))) return stop_leading();
      if (Clock::now() >= deadline) return lost("renew deadline passed: " + a.error_kind + ": " + a.message, a);
    }
  }
}

void LeaderElector::Impl::run() {
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
  // Every callback this run caused has returned before run() does - or the
  // bound has passed (the header says what then).
  callbacks.drain_for(callback_bound);
}

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
  if (impl_->run_thread.load() == std::this_thread::get_id() || impl_->callbacks.on_queue_thread() ||
      detail::TermThread::running_for() == impl_.get())
    return;
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
