// LeaderElector's events and callbacks: the event records, the holder
// observed (on_new_leader), and start_leading()/end_leading(), the only
// places leadership starts and ends. on_started_leading runs on its term's
// thread (term_thread.hpp); the other callbacks are posted to the
// CallbackQueue's thread, each task owning copies of what it calls (a
// callback may outlive the elector: callback_queue.hpp). See
// elector_impl.hpp.
#include "elector_impl.hpp"

#include <mutex>
#include <utility>

namespace rebound::lease {

ElectionEvent LeaderElector::Impl::event(ElectionEventKind kind) const {
  ElectionEvent e;
  e.kind = kind;
  e.time = Clock::now();
  e.wall_time = std::chrono::system_clock::now();
  e.identity = cfg.identity;
  e.holder = holder();
  e.resource_version = etcd ? std::to_string(etcd_key_revision) : observed.resource_version();
  return e;
}
void LeaderElector::Impl::emit(ElectionEvent e) const {
  if (cfg.on_event) callbacks.post([f = cfg.on_event, e = std::move(e)] { f(e); });
}
void LeaderElector::Impl::emit(ElectionEventKind kind, const Attempt& a, std::string message,
                               Clock::time_point valid_until) const {
  auto e = event(kind);
  e.valid_until = valid_until;
  e.http_status = a.http_status;
  e.error_kind = a.error_kind;
  e.message = message.empty() ? a.message : std::move(message);
  e.took = a.took;
  emit(std::move(e));
}

// Reports a newly observed holder once (client-go's maybeReportTransition).
void LeaderElector::Impl::note_leader() {
  const std::string& holder = this->holder();
  if (holder == reported_leader) return;
  reported_leader = holder;
  {
    std::lock_guard lock(mutex);
    leader = holder;
  }
  if (holder.empty()) return;  // free: nobody to report
  emit(event(ElectionEventKind::new_leader));
  if (cfg.on_new_leader) callbacks.post([f = cfg.on_new_leader, holder] { f(holder); });
}

void LeaderElector::Impl::observe(detail::ApiResult& r) {
  observed.observe(std::move(r.object), *r.lease, Clock::now());
  note_leader();
}

// The only places leadership starts and ends, so the callbacks pair up.
// Validity is set before the flag, and the flag cleared first, so
// is_leader() is never true with a stale bound.
void LeaderElector::Impl::start_leading(Clock::time_point until) {
  valid_until_ticks = until.time_since_epoch().count();
  if (leading.exchange(true)) return;
  if (cfg.on_started_leading) term = std::make_shared<detail::TermThread>(cfg.on_started_leading, this);
}
// The term's token is requested at once; on_stopped_leading follows on the
// callback thread once on_started_leading has returned (a void() one that
// started the work), or after started_grace while it still runs (one that
// blocks: it runs the work until its token, or never returns).
void LeaderElector::Impl::end_leading() {
  if (!leading.exchange(false)) return;
  valid_until_ticks = 0;
  auto ended = std::exchange(term, nullptr);
  if (ended) ended->request_stop();
  if (!cfg.on_stopped_leading) return;
  callbacks.post([ended = std::move(ended), f = cfg.on_stopped_leading, grace = started_grace] {
    if (ended) ended->wait_returned(grace);
    f();
  });
}

void LeaderElector::Impl::release_skipped() {
  Attempt a;
  a.error_kind = "callback_timeout";
  a.message = "on_stopped_leading had not returned within " + std::to_string(callback_bound.count()) +
              " ms: not released, the lease expires instead";
  emit(ElectionEventKind::release_failed, a);
}

}  // namespace rebound::lease
