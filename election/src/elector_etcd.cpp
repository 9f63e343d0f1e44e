// LeaderElector's steps on an etcd key (LeaderElectionConfig::etcd_endpoints):
// one attempt - refresh or get our etcd lease, then create the key on it if
// absent, else read whose it is - and the release (LeaseRevoke, which
// deletes the key with the lease), and the wait between attempts, which
// watches the key (etcd_key_watch.hpp). The decisions are
// etcd_lock_state.hpp's.
// See elector_impl.hpp.
#include "elector_impl.hpp"

#include <cstdio>
#include <string>

namespace rebound::lease {

namespace {

std::string lease_hex(std::int64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace

auto LeaderElector::Impl::etcd_failure(const grpc::Status& s, const std::string& endpoint, const char* call)
    -> Attempt {
  Attempt a;
  a.outcome = AttemptOutcome::failed;
  a.error_kind = s.transport ? rebound::error_kind(s.transport->code())
                             : std::string("grpc_") + grpc::to_string(s.code);
  a.message = std::string(call) + " on " + endpoint + ": " + s.to_string();
  return a;
}

auto LeaderElector::Impl::etcd_attempt(Clock::time_point deadline, const Cancellation& cancel) -> Attempt {
  // Each call gets its share of the attempt (etcd_lock_state.hpp), so a
  // member that does not answer leaves time for the others.
  const auto call = [&] {
    return remaining(detail::call_deadline(Clock::now(), deadline, cfg.etcd_endpoints.size(), cfg.retry_period));
  };
  etcd_watch_from = 0;  // set again by this attempt's read of the key
  // The lease first: a keepalive sent now refreshes it (after a lapse too:
  // a new term is bought only by a keepalive sent after it); one etcd no
  // longer has is replaced by a new grant.
  if (etcd_lease.have()) {
    const auto sent = Clock::now();
    auto kept = etcd->keep_alive(etcd_lease.id, call(), cancel);
    if (!kept.ok()) return etcd_failure(kept.status, kept.endpoint, "LeaseKeepAlive");
    if (detail::lease_alive(kept.reply.ttl())) etcd_lease.refreshed(sent);
    else etcd_lease.forget();
  }
  if (!etcd_lease.have()) {
    const auto sent = Clock::now();
    auto granted = etcd->grant(detail::ttl_to_ask(cfg.lease_duration), call(), cancel);
    if (!granted.ok()) return etcd_failure(granted.status, granted.endpoint, "LeaseGrant");
    if (granted.reply.id() == 0 || granted.reply.ttl() <= 0 || !granted.reply.error().empty()) {
      Attempt a;
      a.error_kind = "grant_refused";
      a.message = "LeaseGrant on " + granted.endpoint + " granted nothing: " + granted.reply.error();
      return a;
    }
    etcd_lease.granted(granted.reply.id(), granted.reply.ttl(), sent);
  }

  // Then the key: created on our lease if absent, else read. A resent
  // acquire whose first answer was lost finds the key on our lease: ours.
  auto created = etcd->create_if_absent(cfg.name, cfg.identity, etcd_lease.id, call(), cancel);
  if (!created.ok()) return etcd_failure(created.status, created.endpoint, "Txn");
  const std::string previous = etcd_holder;
  const auto owner = detail::owner_after_create(created.reply, etcd_lease.id);
  etcd_key_ours = owner == detail::KeyOwner::ours;
  etcd_holder = etcd_key_ours ? cfg.identity : created.reply.existing ? created.reply.existing->value : "";
  etcd_key_revision = created.reply.created ? created.reply.revision
                      : created.reply.existing ? created.reply.existing->mod_revision
                                               : 0;
  // Our own write is at or before the Txn's revision: a watch from the
  // next one sees only others' changes.
  etcd_watch_from = created.reply.revision + 1;
  note_leader();

  Attempt a;
  if (!etcd_key_ours) {
    a.outcome = AttemptOutcome::held_by_other;
    a.message = "held by " + etcd_holder + " (etcd lease " +
                (created.reply.existing ? lease_hex(created.reply.existing->lease) : "?") + ", ours " +
                lease_hex(etcd_lease.id) + ")";
    return a;
  }
  a.outcome = AttemptOutcome::success;
  a.created = created.reply.created;
  a.previous_holder = previous;
  a.write_sent = etcd_lease.refreshed_sent;
  a.bought = detail::lock_span(etcd_lease.granted_ttl, detail::safety_margin(cfg));
  return a;
}

auto LeaderElector::Impl::wait_watching_key(Clock::time_point t, std::string* what) -> Woken {
  std::unique_ptr<detail::EtcdKeyWatch> watch;
  if (etcd && etcd_watch_from > 0 && Clock::now() < t) {
    // The stream is cancelled when the wait ends; its own deadline is a
    // backstop. The notice takes the mutex so the wait cannot miss it.
    watch = etcd->watch(cfg.name, etcd_watch_from, remaining(t) + std::chrono::seconds(1), [this] {
      { std::lock_guard lock(mutex); }
      wake.notify_all();
    });
  }
  Woken woken = Woken::timer;
  {
    std::unique_lock lock(mutex);
    if (wake.wait_until(lock, t, [&] { return stop_requested || (watch && watch->changed()); }))
      woken = stop_requested ? Woken::stop : Woken::key_changed;
  }
  if (woken == Woken::key_changed && what) *what = watch->what();
  // Destroyed outside the mutex: its end waits for the stream's callbacks,
  // and the notice above takes the mutex.
  watch.reset();
  return woken;
}

void LeaderElector::Impl::etcd_release() {
  if (!etcd_lease.have() || !etcd_key_ours) return;
  // on_stopped_leading has stopped the work before anyone may take over;
  // if it has not returned within the bound, the lease expires instead.
  if (!callbacks.drain_for(callback_bound)) return release_skipped();
  const Cancellation cancel;
  const auto deadline = Clock::now() + cfg.renew_deadline;
  const auto t0 = Clock::now();
  // Two tries: a failure without an answer moved the API to another member.
  grpc::Status status;
  std::string endpoint;
  for (int i = 0; i < 2; ++i) {
    auto revoked = etcd->revoke(etcd_lease.id, remaining(deadline), cancel);
    // NOT_FOUND: the lease is already gone, and the key with it.
    if (revoked.ok() || (revoked.status.from_server && revoked.status.code == grpc::StatusCode::not_found)) {
      etcd_lease.forget();
      etcd_key_ours = false;
      Attempt a;
      a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
      emit(ElectionEventKind::released, a, "revoked the etcd lease: the key is gone");
      return;
    }
    status = std::move(revoked.status);
    endpoint = std::move(revoked.endpoint);
    if (!detail::try_another_member(status)) break;
  }
  Attempt a = etcd_failure(status, endpoint, "LeaseRevoke");
  a.took = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  emit(ElectionEventKind::release_failed, a);
}

}  // namespace rebound::lease
