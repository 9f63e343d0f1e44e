// The pool's dial planning: how many dials an origin wants now (one for a
// possibly-HTTP/2 origin, one per waiting request for HTTP/1.1, within the
// origin's connection slots), staggered dials beside stale ones, what a
// dial's result does, and the backoff after dial failures.
#include "pool/origin_pool.hpp"

#include <algorithm>

namespace rebound::pool {

bool OriginPool::may_be_http2() const noexcept { return !protocol_known_ || protocol_ == Protocol::http2; }

OriginPool::DialPlan OriginPool::dials_wanted() const {
  if (shut_down_) return {};
  // While backing off after dial failures, the requests that failed with
  // the dial (and those that asked to wait for readiness) wait for the
  // redial; a request that arrived since gets a fresh dial at once.
  const bool backing_off = static_cast<bool>(redial_);
  // Nobody waits (the usual case under load: pump() just dispatched them
  // all): no clock read.
  if (waiting_.empty()) return {};
  // A request resting after repeated refusals wants no dial until it wakes.
  const auto now = clock_.now();
  const auto wanting = static_cast<std::size_t>(std::count_if(waiting_.begin(), waiting_.end(), [&](const auto& e) {
    return !e->done() && !e->resting(now) && !(backing_off && (e->wait_for_ready() || e->backing_off()));
  }));
  if (wanting == 0) return {};
  const std::size_t slots_used = slots_in_use();
  if (slots_used >= options_.max_conns_per_origin) return {};
  const std::size_t free_slots = options_.max_conns_per_origin - slots_used;
  // One HTTP/2 connection may serve them all: dial one at a time, and not
  // while a new connection's stream limit is still to come.
  if (may_be_http2()) {
    // A suspect one may never hear from its peer again: it holds nothing back.
    const bool limits_coming = std::any_of(connections_.begin(), connections_.end(), [](const auto& c) {
      return c->state() != ConnState::draining && !c->suspect() && c->limits_pending();
    });
    if (limits_coming) return {};
    if (dials_.empty()) return {1, false};
    return {0, dials_stale()};
  }
  // HTTP/1.1: one connection per waiting request; each dial in flight will serve one.
  if (wanting > dials_.size()) return {std::min(wanting - dials_.size(), free_slots), false};
  return {0, dials_stale()};
}

std::size_t OriginPool::slots_in_use() const {
  // Draining connections are on their way out, and a suspect one takes
  // nothing until it proves alive, which it may never do: neither holds a
  // slot, so neither keeps a dial from serving what waits (invariant 7).
  const auto live = static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(), [](const auto& c) {
    return c->state() != ConnState::draining && !c->suspect();
  }));
  return live + dials_.size();
}

bool OriginPool::dials_stale() const {
  if (options_.dial_stagger.count() <= 0 || dials_.empty()) return false;
  // A dial that reached the peer (TCP up, TLS under way) proves the path:
  // a slow handshake is the server's, and a fresh dial would meet the same.
  if (std::any_of(dials_.begin(), dials_.end(), [](const auto& d) { return d.dial->reached_peer(); })) return false;
  // A dial still racing its name's addresses sends a fresh SYN every 250 ms
  // itself (net/address_race.hpp): a whole dial beside it would repeat its
  // first addresses and, three dials on, cancel the one furthest along.
  if (dials_racing()) return false;
  return clock_.now() - dials_.back().started >= options_.dial_stagger;
}

bool OriginPool::dials_racing() const {
  return std::any_of(dials_.begin(), dials_.end(), [](const auto& d) { return d.dial->racing(); });
}

bool OriginPool::dial_streak_timed_out() const {
  // Without rotation the oldest dial's own connect_timeout ends the streak.
  return rotated_ && !dials_.empty() && clock_.now() - dialing_since_ >= options_.connect_timeout;
}

void OriginPool::fail_dial_streak() {
  const std::size_t pending = dials_.size();
  cancel_dials(0);
  rotated_ = false;
  ++consecutive_dial_failures_;
  if (services_.counters) ++services_.counters->dial_failures;
  const Error err(errc::connect_timeout,
                  origin_.origin() + ": no connection within " + std::to_string(options_.connect_timeout.count()) +
                      " ms (staggered dials, " + std::to_string(pending) + " still pending, cancelled)",
                  progress::not_sent);
  emit(EventKind::dial_failed, 0, protocol_, err.code(), err.message());
  after_dial_failure(err);
}

void OriginPool::maybe_dial() {
  if (dial_streak_timed_out()) {
    fail_dial_streak();
    return;
  }
  const DialPlan plan = dials_wanted();
  for (std::size_t n = plan.fresh; n > 0; --n) start_dial(false);
  if (plan.staggered) start_dial(true);
  else if (options_.dial_stagger.count() > 0 && dials_racing()) {
    // Look again once the race may have run out of addresses.
    const auto streak_left = dialing_since_ + options_.connect_timeout - clock_.now();
    auto next = std::chrono::duration_cast<Clock::duration>(options_.dial_stagger);
    if (streak_left > Clock::duration::zero()) next = std::min(next, streak_left);
    stagger_ = clock_.call_after(next, while_alive([this] { pump(); }));
  }
}

void OriginPool::start_dial(bool staggered) {
  const auto now = clock_.now();
  if (dials_.empty()) {
    dialing_since_ = now;  // a streak of dials without a connection starts
    rotated_ = false;
  }
  if (staggered && dials_.size() >= max_staggered_dials) {
    // The oldest has waited longest on TCP's SYN retransmission: it makes
    // way. From now on the streak, not that dial, owns connect_timeout.
    auto oldest = std::move(dials_.front().dial);
    dials_.erase(dials_.begin());
    oldest->cancel();
    rotated_ = true;
  }
  if (services_.counters) ++services_.counters->dials;
  if (observed()) {
    std::string detail = origin_.origin();
    if (staggered)
      detail += " (beside " + std::to_string(dials_.size()) + " pending, the youngest for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - dials_.back().started).count()) +
                " ms)";
    emit(EventKind::dial_start, 0, protocol_, {}, std::move(detail));
  }
  auto slot = std::make_shared<const net::Dial*>(nullptr);
  auto dial = services_.connector->dial(origin_, while_alive([this, slot](Error err, net::DialResult result) {
    on_dialed(*slot, std::move(err), std::move(result));
  }));
  *slot = dial.get();
  dials_.push_back({std::move(dial), now});
  if (options_.dial_stagger.count() > 0) {
    // The next fresh dial may start then - or the streak ends, if sooner.
    auto next = std::chrono::duration_cast<Clock::duration>(options_.dial_stagger);
    const auto streak_left = dialing_since_ + options_.connect_timeout - now;
    if (streak_left > Clock::duration::zero()) next = std::min(next, streak_left);
    stagger_ = clock_.call_after(next, while_alive([this] { pump(); }));
  }
}

void OriginPool::cancel_dials(std::size_t keep_newest) {
  while (dials_.size() > keep_newest) {
    auto d = std::move(dials_.front().dial);
    dials_.erase(dials_.begin());
    d->cancel();  // its handler finds it gone and does nothing
  }
  if (dials_.empty()) stagger_.reset();
}

void OriginPool::on_dialed(const net::Dial* which, Error err, net::DialResult result) {
  auto it = std::find_if(dials_.begin(), dials_.end(), [&](const auto& d) { return d.dial.get() == which; });
  if (it == dials_.end()) return;  // cancelled: a sibling connected first, or it made way
  dials_.erase(it);
  if (dials_.empty()) stagger_.reset();
  if (shut_down_) return;
  if (err) {
    ++consecutive_dial_failures_;
    if (services_.counters) ++services_.counters->dial_failures;
    emit(EventKind::dial_failed, 0, protocol_, err.code(), err.message());
    after_dial_failure(err);
    return;
  }
  consecutive_dial_failures_ = 0;
  fast_redials_ = 0;
  refused_since_.reset();
  end_backoff();
  protocol_ = result.protocol;
  protocol_known_ = true;
  const auto id = services_.next_connection_id();
  // An HTTP/2 connection takes the whole queue: staggered siblings still
  // pending are cancelled (they would only connect to idle).
  const std::size_t cancelled = result.protocol == Protocol::http2 ? dials_.size() : 0;
  if (cancelled > 0) cancel_dials(0);
  emit(EventKind::dial_done, id, result.protocol, {},
       origin_.origin() + " " + to_string(result.protocol) +
           (result.tls_cipher.empty() ? "" : " " + result.tls_cipher) + (result.tls_resumed ? " resumed" : "") +
           (result.proxy.empty() ? "" : " via " + result.proxy) +
           (result.peer_address.empty() ? "" : (result.proxy.empty() ? " to " : " at ") + result.peer_address) +
           (result.failed_addresses.empty() ? "" : " after " + result.failed_addresses) +
           (cancelled > 0 ? " (connected first; cancelled " + std::to_string(cancelled) + " staggered dial(s))" : ""));
  if (services_.counters) ++services_.counters->connections_open;
  const auto tls_generation = result.tls_generation;
  connections_.push_back(services_.connector->connect(*this, id, std::move(result)));
  connections_.back()->set_tls_generation(tls_generation);
  pump();
  // HTTP/1.1: staggered siblings still pending are kept for the requests
  // still waiting, one each; the rest serve nobody.
  if (!dials_.empty()) {
    const auto still_waiting = static_cast<std::size_t>(
        std::count_if(waiting_.begin(), waiting_.end(), [](const auto& e) { return !e->done(); }));
    cancel_dials(std::min(still_waiting, dials_.size()));
  }
}

bool OriginPool::note_refused_streak(const Error& err) {
  const auto now = clock_.now();
  if (err != errc::connection_refused) {
    refused_since_.reset();
    return false;
  }
  if (!refused_since_) refused_since_ = now;
  const bool fast = now - *refused_since_ < retry::fast_redial_window;
  if (fast) ++fast_redials_;
  return fast;
}

void OriginPool::after_dial_failure(const Error& err) {
  const bool fast = note_refused_streak(err);
  // Requests still have a way forward while another dial runs or a live
  // connection will free up: they keep waiting, charged nothing.
  const bool other_way = !dials_.empty() || std::any_of(connections_.begin(), connections_.end(), [](const auto& c) {
                           return c->state() == ConnState::ready || c->state() == ConnState::busy;
                         });
  if (other_way) {
    // Uncharged, but no redial before the backoff either: a dial started at
    // once for each failure (HTTP/1.1 dials in parallel) was a storm of
    // thousands a second while any other dial or connection lived. New
    // requests still dial at once.
    for (auto& ex : waiting_)
      if (!ex->done()) ex->set_backing_off(true);
    schedule_redial(fast);
    pump();
    return;
  }
  // Otherwise the dial was an attempt for each of them, never sent: the
  // retry decision says whether they wait for a redial (one redial is one
  // retry from the budget, whoever rides on it) or fail with the dial error.
  bool budget_checked = false, budget_ok = false;
  std::deque<std::shared_ptr<Exchange>> keep;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& ex : waiting) {
    if (ex->done()) continue;
    if (ex->wait_for_ready()) {  // waits for readiness until its deadline, attempts uncounted
      keep.push_back(std::move(ex));
      continue;
    }
    ex->begin_attempt(nullptr);
    if (fast) ex->uncharge_attempt();
    const retry::Verdict verdict = retry::decide({err.code(), progress::not_sent}, facts_of(*ex));
    std::string why(verdict.reason);
    if (verdict.action == retry::Action::retry_now) {
      if (!budget_checked) {
        budget_checked = true;
        budget_ok = budget_.try_spend(clock_.now());
        if (budget_ok && services_.counters) ++services_.counters->retries;
      }
      if (budget_ok) {
        ex->set_backing_off(true);
        emit(EventKind::retry, 0, protocol_, err.code(),
             ex->describe() + (fast ? ": refused; redialing in 25-50 ms (" : ": dial failed; redialing after backoff (") +
                 err.message() + ")");
        keep.push_back(std::move(ex));
        continue;
      }
      why = "retry budget exhausted";
    }
    Error e = err;
    e.set_where(ex->describe() + ": " + err.where() + " (" + why + ")").set_attempts(ex->attempts());
    finish(ex, std::move(e));
  }
  for (auto& ex : keep) waiting_.push_back(std::move(ex));
  if (!waiting_.empty()) schedule_redial(fast);
}

void OriginPool::schedule_redial(bool fast) {
  if (redial_) return;
  const double r = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  // After a fast spell the backoff starts from its first step.
  // A dial that succeeded but whose certificate was then rejected reset
  // consecutive_dial_failures_: the rejections keep their own count.
  const int step = std::max(consecutive_dial_failures_ - fast_redials_, rejections_in_a_row_);
  const auto delay = fast ? retry::fast_redial_delay(r)
                          : retry::backoff_delay(step, options_.backoff_base, options_.backoff_max, r);
  redial_ = clock_.call_after(
      delay,
      while_alive([this] {
        end_backoff();
        pump();
      }));
}

void OriginPool::end_backoff() {
  redial_.reset();
  for (auto& ex : waiting_) ex->set_backing_off(false);
}

}  // namespace rebound::pool
