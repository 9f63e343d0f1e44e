// LeaderElector's writes to the Lease: one attempt (client-go's
// tryAcquireOrRenew: read, then create or a write conditional on the
// version read; a leader first tries one write on the record its last
// write returned) and the release when stopped while leading. See
// elector_impl.hpp.
#include "elector_impl.hpp"

#include <string>
#include <utility>

namespace rebound::lease {

auto LeaderElector::Impl::try_acquire_or_renew(Clock::time_point deadline) -> Attempt {
  const auto t0 = Clock::now();
  Attempt a = attempt(deadline);
  a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  // A request cut short by stop() is not a failure worth reporting.
  if (a.outcome == AttemptOutcome::failed && stopping()) a.outcome = AttemptOutcome::stopped;
  return a;
}

auto LeaderElector::Impl::failure(AttemptOutcome outcome, const detail::ApiResult& r) -> Attempt {
  Attempt a;
  a.outcome = outcome;
  a.http_status = r.status;
  a.error_kind = r.error_kind;
  a.message = r.message;
  return a;
}

auto LeaderElector::Impl::attempt(Clock::time_point deadline) -> Attempt {
  const auto cancel = begin_attempt();
  if (!cancel) {
    Attempt a;
    a.outcome = AttemptOutcome::stopped;
    return a;
  }
  if (etcd) return etcd_attempt(deadline, *cancel);

  // client-go's fast path: a leader renews with one PUT of the record its
  // last write returned, conditional on that resourceVersion - half the
  // round trips to a slow API server. A conflict (a write we did not see:
  // another holder, or our own renewal whose answer was lost) falls back
  // to a read and the full decision.
  if (leading.load() && detail::ours(observed, cfg.identity)) {
    Attempt a = write_over_observed(deadline, *cancel);
    const bool gone = a.http_status == 404;  // deleted, or the server forgot it: recreate below
    if ((a.outcome != AttemptOutcome::conflict && !gone) || remaining(deadline) <= milliseconds::zero()) return a;
  }

  auto got = api->get(remaining(deadline), *cancel);
  if (got.outcome == detail::ApiOutcome::not_found) {
    // A lease that vanished while another held it (the memory-only server
    // restarted, `kubectl delete lease`) is still held by our clock until
    // it would have expired: its holder may still be working. Only the
    // holder itself recreates at once.
    if (detail::decide(observed, cfg.identity, Clock::now(), cfg.lease_duration) == detail::Verdict::held_by_other) {
      Attempt a = failure(AttemptOutcome::held_by_other, got);
      const auto left =
          std::chrono::duration_cast<milliseconds>(detail::expiry(observed, cfg.lease_duration) - Clock::now());
      a.message = "the lease vanished while " + observed.holder() + " held it; treated as held for " +
                  std::to_string(left.count()) + " ms more by our clock";
      return a;
    }
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
    auto created = api->create(to_json(fresh), remaining(deadline), *cancel);
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

  return write_over_observed(deadline, *cancel);
}

// Ours, free or expired: write it, conditional on the version observed.
auto LeaderElector::Impl::write_over_observed(Clock::time_point deadline, const Cancellation& cancel) -> Attempt {
  Attempt a;
  a.previous_holder = observed.holder();
  auto object = observed.object();
  const auto spec =
      detail::next_spec(&observed.spec(), detail::ours(observed, cfg.identity), cfg.identity, now_micro(), duration_seconds);
  write_spec(object, spec);
  observed.note_sent(spec);
  a.write_sent = Clock::now();
  auto updated = api->update(object, remaining(deadline), cancel);
  if (updated.outcome == detail::ApiOutcome::conflict) {
    observed.note_refused();
    return failure(AttemptOutcome::conflict, updated);
  }
  if (updated.outcome != detail::ApiOutcome::ok) return failure(AttemptOutcome::failed, updated);
  observe(updated);
  observed.note_written();
  a.outcome = AttemptOutcome::success;
  a.http_status = updated.status;
  return a;
}

// Reports a non-success attempt; true when the attempt was a stop.
bool LeaderElector::Impl::report(const Attempt& a) {
  switch (a.outcome) {
    case AttemptOutcome::held_by_other: emit(ElectionEventKind::held_by_other, a); return false;
    case AttemptOutcome::conflict: emit(ElectionEventKind::conflict, a); return false;
    case AttemptOutcome::failed: emit(ElectionEventKind::failed, a); return false;
    case AttemptOutcome::stopped: return true;
    case AttemptOutcome::success: return false;
  }
  return false;
}

void LeaderElector::Impl::release() {
  if (etcd) return etcd_release();
  // Nothing to hand back unless the last record we saw is ours.
  if (!detail::ours(observed, cfg.identity)) return;
  // on_stopped_leading has stopped the work before anyone may take over;
  // if it has not returned within the bound, the lease expires instead.
  if (!callbacks.drain_for(callback_bound)) return release_skipped();
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
    r = api->update(object, remaining(deadline), cancel);
    if (r.outcome == detail::ApiOutcome::ok) {
      observe(r);
      Attempt a;
      a.http_status = r.status;
      a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
      emit(ElectionEventKind::released, a, "released the lease");
      return;
    }
    if (r.outcome != detail::ApiOutcome::conflict || i == 1) break;
    auto again = api->get(remaining(deadline), cancel);
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

}  // namespace rebound::lease
