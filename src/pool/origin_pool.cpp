// One origin's pool: checkout, queueing, dialing, eviction and retries.
#include "pool/origin_pool.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <sstream>

namespace rebound::pool {

OriginPool::OriginPool(PoolServices services, Url origin)
    : services_(std::move(services)), options_(*services_.options), clock_(*services_.clock),
      origin_(std::move(origin)),
      budget_(options_.retry_budget_ratio, options_.retry_budget_min_per_second),
      random_(std::random_device{}()) {
  // Plain http speaks a known protocol from the start; https learns it from ALPN.
  if (!origin_.tls()) {
    protocol_ = options_.http_version == HttpVersion::http2_prior_knowledge ? Protocol::http2
                                                                            : Protocol::http1;
    protocol_known_ = true;
  } else if (options_.http_version == HttpVersion::http1_only) {
    protocol_known_ = true;  // ALPN offers only http/1.1
  }
}

OriginPool::~OriginPool() { shutdown(); }

void OriginPool::submit(std::shared_ptr<Exchange> ex) {
  if (services_.credentials && !ex->credential_fetched() && !shut_down_) {
    authenticate(std::move(ex));  // comes back here with its credential
    return;
  }
  if (shut_down_) {
    finish(ex, Error(errc::client_shut_down, ex->describe()));
    return;
  }
  // Requests that ended while they waited (a deadline, a cancel) stay in
  // the queue until pump() meets them; they do not count against the limit.
  if (waiting_.size() >= options_.max_queued_per_origin)
    std::erase_if(waiting_, [](const auto& e) { return e->done(); });
  if (waiting_.size() >= options_.max_queued_per_origin) {
    finish(ex, Error(errc::queue_full, ex->describe() + ": " + std::to_string(waiting_.size()) +
                                           " requests already wait for " + origin_.origin()));
    return;
  }
  // One clock read serves the budget, the queue and the dispatch.
  const auto now = clock_.now();
  budget_.record_request(now);
  // Nobody waits and a connection has room: straight to it, as pump()
  // would send it, without a trip through the queue (~200 instructions of
  // a small request's).
  if (waiting_.empty() && !ex->done() && !ex->resting(now) && !ex->request().body_writer()) {
    auto it = std::find_if(connections_.begin(), connections_.end(), [](const auto& c) { return c->can_take(); });
    if (it != connections_.end()) {
      auto conn = *it;  // keep alive: submit may close it
      dispatch(*conn, std::move(ex), now);
      maybe_dial();
      return;
    }
  }
  waiting_.push_back(std::move(ex));
  pump(now);
}

void OriginPool::pump() { pump(clock_.now()); }

void OriginPool::pump(Clock::time_point now) {
  while (!waiting_.empty() && waiting_.front()->done()) waiting_.pop_front();
  for (;;) {
    // The first request not resting after a refusal, in arrival order.
    auto next = std::find_if(waiting_.begin(), waiting_.end(),
                             [&](const auto& e) { return !e->done() && !e->resting(now); });
    if (next == waiting_.end()) break;
    auto it = std::find_if(connections_.begin(), connections_.end(),
                           [](const auto& c) { return c->can_take(); });
    if (it == connections_.end()) break;
    auto conn = *it;  // keep alive: submit may close it
    auto ex = std::move(*next);
    waiting_.erase(next);  // before dispatch, which may queue a retry
    // A body the caller writes while the answer streams needs HTTP/2; the
    // HTTP/1.1 connection stays for the requests it can carry.
    if (ex->request().body_writer() && conn->protocol() != Protocol::http2) {
      finish(ex, Error(errc::http2_required,
                       ex->describe() + ": a BodyWriter body needs HTTP/2, and " + origin_.origin() +
                           " was reached over HTTP/1.1", progress::not_sent));
      continue;
    }
    dispatch(*conn, std::move(ex), now);
  }
  maybe_dial();
}

void OriginPool::pump_soon() {
  // Deferred: the caller is inside a connection's or a dial's own callback.
  if (pump_posted_) return;
  pump_posted_ = true;
  asio::post(services_.executor, while_alive([this] {
    pump_posted_ = false;
    pump();
  }));
}

void OriginPool::dispatch(Connection& c, std::shared_ptr<Exchange> ex, Clock::time_point now) {
  c.note_activity(now);
  ex->begin_attempt(&c);
  ex->set_backing_off(false);
  if (observed()) {  // the hot path builds no strings nobody reads
    if (c.used()) emit(EventKind::connection_reused, c.id(), c.protocol(), {}, ex->describe());
    emit(EventKind::request_start, c.id(), c.protocol(), {},
         ex->describe() + " (attempt " + std::to_string(ex->attempts()) + ")");
  }
  if (options_.response_header_timeout.count() > 0) {
    ex->arm_header_timeout(options_.response_header_timeout, while_alive([this](Exchange& e) {
      auto keep = e.shared_from_this();
      if (auto* carrier = e.carrier()) carrier->abandon(e, inflight::AttemptCarrier::Abandon::timed_out);
      e.set_carrier(nullptr);
      retry_or_complete(keep, Error(errc::response_header_timeout,
                                    "no response header within " +
                                        std::to_string(options_.response_header_timeout.count()) + " ms",
                                    progress::sent));
    }));
  }
  if (ex->request().body_idle_timeout()) watch_body_idle(*ex);
  c.submit(std::move(ex));
}

void OriginPool::watch_body_idle(Exchange& ex) {
  ex.watch_body_idle(while_alive([this](Exchange& e) {
    auto keep = e.shared_from_this();
    // The stream went quiet, which is what a dead path looks like too: the
    // connection is told so (an HTTP/2 one then proves itself with a PING).
    if (auto* carrier = e.carrier()) carrier->abandon(e, inflight::AttemptCarrier::Abandon::timed_out);
    e.set_carrier(nullptr);
    finish(keep, Error(errc::body_idle_timeout,
                       e.describe() + ": no response body byte for " +
                           std::to_string(e.request().body_idle_timeout()->count()) + " ms",
                       progress::response_started, e.attempts()));
  }));
}

void OriginPool::on_ready(Connection&) { pump(); }

void OriginPool::on_closed(Connection& c, const Error& why) {
  // Removed in the same step that learned it is unusable.
  auto it = std::find_if(connections_.begin(), connections_.end(),
                         [&](const auto& p) { return p.get() == &c; });
  if (it == connections_.end()) return;
  auto keep_alive = *it;
  connections_.erase(it);
  c.detach();
  if (services_.counters) {
    --services_.counters->connections_open;
    ++services_.counters->connections_closed;
  }
  emit(EventKind::connection_closed, c.id(), c.protocol(), why.code(), why.message());
  // The connection is still inside its own callback: it lives until that returns.
  asio::post(services_.executor, [keep_alive = std::move(keep_alive)] {});
  if (why == errc::client_certificate_rejected) {
    // TLS 1.3 says so only after the handshake: for the requests waiting
    // for this connection it is a failed dial - counted as one, so the
    // redial waits a growing backoff instead of being rejected in a storm.
    ++rejections_in_a_row_;
    if (services_.counters) ++services_.counters->dial_failures;
    asio::post(services_.executor, while_alive([this, why] { after_dial_failure(why); }));
    return;
  }
  pump_soon();
}

void OriginPool::on_attempt_done(const std::shared_ptr<Exchange>& ex, Result<Response> result) {
  if (ex->done()) return;  // its deadline or cancellation already completed it
  // The connection it ran on was in use until now (the reaper's clock).
  if (const auto* carrier = ex->carrier())
    for (const auto& c : connections_)
      if (static_cast<const inflight::AttemptCarrier*>(c.get()) == carrier) {
        c->note_activity(clock_.now());
        break;
      }
  ex->end_attempt();
  if (result) {
    rejections_in_a_row_ = 0;  // a response: the server accepted our certificate
    if (reauthenticate(ex, *result)) return;
    if (retry_busy_answer(ex, *result)) return;
    result->attempts(ex->attempts());
    finish(ex, std::move(result));
    return;
  }
  retry_or_complete(ex, std::move(result).error());
}

retry::RequestFacts OriginPool::facts_of(const Exchange& ex) const {
  const Request& r = ex.request();
  return retry::RequestFacts{r.method(), r.headers().contains("idempotency-key"), ex.body_replayable(),
                             r.retry_policy(), ex.charged_attempts(), options_.max_attempts, ex.refusals()};
}

void OriginPool::retry_or_complete(const std::shared_ptr<Exchange>& ex, Error err) {
  retry::Verdict verdict = retry::decide({err.code(), err.reached()}, facts_of(*ex));
  if (err.reached() == progress::refused) ex->count_refusal();
  std::string why(verdict.reason);
  Clock::duration rest{};
  if (verdict.action == retry::Action::retry_after_backoff) {
    const double r = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    rest = retry::backoff_delay(verdict.backoff_step, options_.backoff_base,
                                std::min<std::chrono::milliseconds>(options_.backoff_max, retry::max_refusal_backoff), r);
    if (clock_.now() + rest >= ex->deadline()) {  // say why now rather than time out later
      verdict.action = retry::Action::fail;
      why = "refused again; the next try would come after the request's deadline";
    }
  }
  const bool retrying = verdict.action != retry::Action::fail;
  if (retrying && !shut_down_ && budget_.try_spend(clock_.now())) {
    if (services_.counters) ++services_.counters->retries;
    if (observed()) {
      std::string when = rest.count() == 0 ? "" :
          " in " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(rest).count()) + " ms";
      emit(EventKind::retry, 0, protocol_, err.code(),
           ex->describe() + ": " + why + when + " (after " + err.message() + ")");
    }
    if (rest.count() == 0) {
      waiting_.push_front(ex);
      pump_soon();
    } else {
      ex->rest_until(clock_.now() + rest);
      waiting_.push_back(ex);
      schedule_wake(ex->resting_until());
    }
    return;
  }
  if (retrying) why = "retry budget exhausted";
  err.set_where(err.where().empty() ? ex->describe() + " (" + why + ")"
                                    : ex->describe() + " on " + err.where() + " (" + why + ")")
      .set_attempts(ex->attempts());
  finish(ex, std::move(err));
}

bool OriginPool::retry_busy_answer(const std::shared_ptr<Exchange>& ex, const Response& answer) {
  if (answer.status() != 429 && answer.status() != 503) return false;
  // A body already handed to the caller's sink cannot be taken back (a
  // busy answer's is held until now: Exchange::mark_response_started).
  if (ex->body_reached_sink()) return false;
  const auto header = answer.headers().get("retry-after");
  const auto delay = header ? retry::parse_retry_after(*header, std::chrono::system_clock::now()) : std::nullopt;
  const retry::Verdict verdict = retry::decide_answer(answer.status(), delay, facts_of(*ex));
  if (verdict.action != retry::Action::retry_after_delay) return false;
  const auto wake = clock_.now() + verdict.delay;
  // Past the deadline the caller gets the answer itself, which says why.
  if (wake >= ex->deadline() || shut_down_ || !budget_.try_spend(clock_.now())) return false;
  if (services_.counters) ++services_.counters->retries;
  if (observed())
    emit(EventKind::retry, answer.connection_id(), answer.protocol(), {},
         ex->describe() + ": " + std::string(verdict.reason) + ": " + std::to_string(answer.status()) +
             " with Retry-After " + std::string(*header) + "; retrying in " + std::to_string(verdict.delay.count()) +
             " ms");
  ex->rest_until(wake);
  waiting_.push_back(ex);
  schedule_wake(wake);
  return true;
}

void OriginPool::schedule_wake(Clock::time_point at) {
  if (wake_ && wake_at_ <= at) return;
  wake_at_ = at;
  wake_ = clock_.call_after(at - clock_.now(), while_alive([this] {
    wake_.reset();
    // Whoever still rests sets the next wake-up; the rest are served now.
    const auto now = clock_.now();
    for (const auto& e : waiting_)
      if (!e->done() && e->resting(now)) schedule_wake(e->resting_until());
    pump();
  }));
}

void OriginPool::finish(const std::shared_ptr<Exchange>& ex, Result<Response>&& result) {
  if (ex->done()) return;
  // A held 401/429/503 body is the caller's answer after all; a sink that
  // throws on it makes the answer that error.
  if (result && !ex->release_held_body())
    result = Error(errc::callback_threw, ex->describe() + ": " + ex->caller_threw().value_or(""),
                   progress::response_started, ex->attempts());
  if (services_.counters) ++(result ? services_.counters->requests_succeeded : services_.counters->requests_failed);
  if (observed())
    emit(EventKind::request_done, result ? result->connection_id() : 0,
         result ? result->protocol() : protocol_, result ? error_code{} : result.error().code(),
         result ? ex->describe() + " -> " + std::to_string(result->status()) : result.error().message());
  ex->complete(std::move(result));
}

bool OriginPool::reap(Clock::time_point now) {
  std::vector<std::shared_ptr<Connection>> idle;
  for (const auto& c : connections_)
    if (c->active() > 0) c->note_activity(now);  // in use now: its idle time starts later
  for (const auto& c : connections_)
    if (c->state() == ConnState::ready && c->active() == 0 && now - c->idle_since() >= options_.idle_timeout)
      idle.push_back(c);
  for (const auto& c : idle) c->close(Error(errc::connection_closed, c->describe() + ": idle timeout"));
  const bool idle_queue = std::none_of(waiting_.begin(), waiting_.end(), [](const auto& e) { return !e->done(); });
  // A request waiting for its credential is the pool's too: dropping the
  // pool would leave it to a callback that finds nobody (invariant 6).
  std::erase_if(authenticating_, [](const Authenticating& a) { return a.ex->done(); });
  return connections_.empty() && idle_queue && authenticating_.empty() && dials_.empty() && !redial_ && !wake_;
}

void OriginPool::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  redial_.reset();
  wake_.reset();
  stagger_.reset();
  auto dials = std::move(dials_);
  dials_.clear();
  for (auto& d : dials) d.dial->cancel();
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& ex : waiting) finish(ex, Error(errc::client_shut_down, ex->describe()));
  auto authenticating = std::move(authenticating_);
  authenticating_.clear();
  for (auto& a : authenticating)
    finish(a.ex, Error(errc::client_shut_down, a.ex->describe() + " (while its credential was fetched)"));
  auto conns = connections_;
  for (auto& c : conns) c->close(Error(errc::client_shut_down, c->describe() + ": client shut down"));
  for (auto& c : connections_) c->detach();
  connections_.clear();
}

void OriginPool::retire_connections_older_than(std::uint64_t generation) {
  auto stale = connections_;  // retire() may close one, which erases it
  for (const auto& c : stale)
    if (c->tls_generation() != 0 && c->tls_generation() < generation &&
        (c->state() == ConnState::ready || c->state() == ConnState::busy))
      c->retire("TLS material reloaded");
}

PoolCounts OriginPool::counts() const {
  PoolCounts n;
  for (const auto& c : connections_) {
    switch (c->state()) {
      case ConnState::ready: ++n.ready; break;
      case ConnState::busy: ++n.busy; break;
      case ConnState::draining: ++n.draining; break;
      case ConnState::closed: break;
    }
  }
  n.dialing = dials_.size();
  n.waiting = static_cast<std::size_t>(
      std::count_if(waiting_.begin(), waiting_.end(), [](const auto& e) { return !e->done(); }));
  n.authenticating = static_cast<std::size_t>(
      std::count_if(authenticating_.begin(), authenticating_.end(), [](const auto& a) { return !a.ex->done(); }));
  return n;
}

void OriginPool::for_each_held(const std::function<void(const Exchange&, Place)>& f) const {
  for (const auto& ex : waiting_)
    if (!ex->done()) f(*ex, Place::queued);
  for (const auto& a : authenticating_)
    if (!a.ex->done()) f(*a.ex, Place::authenticating);
}

std::string OriginPool::dump() const {
  std::ostringstream os;
  const auto n = counts();
  os << origin_.origin() << ": ready " << n.ready << ", busy " << n.busy << ", draining " << n.draining
     << ", dialing " << n.dialing << ", waiting " << n.waiting << ", authenticating " << n.authenticating;
  for (const auto& c : connections_) os << "\n  " << *c;
  return os.str();
}

void OriginPool::on_capacity_changed(Connection&) {
  // Requests waiting may get a dial now; deferred: the connection is
  // inside its own callback.
  pump_soon();
}

void OriginPool::on_connection_event(Connection& c, EventKind kind, std::string detail) {
  emit(kind, c.id(), c.protocol(), {}, std::move(detail));
}

void OriginPool::emit(EventKind kind, std::uint64_t conn, Protocol p, error_code ec, std::string detail) {
  if (!services_.emit) return;
  services_.emit(Event{kind, clock_.now(), origin_.origin(), conn, p, ec, std::move(detail)});
}

}  // namespace rebound::pool
