// One origin's pool: checkout, queueing, dialing, eviction and retries.
#include "pool/origin_pool.hpp"

#include "pool/connection_factory.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <sstream>

namespace rebound::pool {

OriginPool::OriginPool(ShardServices services, Url origin)
    : services_(std::move(services)), options_(*services_.options), origin_(std::move(origin)),
      redial_timer_(services_.executor), random_(std::random_device{}()) {
  // Plain http speaks a known protocol from the start; https learns it from ALPN.
  if (!origin_.tls()) {
    protocol_ = options_.http_version == HttpVersion::http2_prior_knowledge ? Protocol::http2
                                                                            : Protocol::http1;
  }
}

OriginPool::~OriginPool() { shutdown(); }

void OriginPool::submit(std::shared_ptr<Exchange> ex) {
  if (shut_down_) {
    finish(ex, Error(errc::client_shut_down, ex->describe()));
    return;
  }
  if (waiting_.size() >= options_.max_queued_per_origin) {
    finish(ex, Error(errc::queue_full, ex->describe() + ": " + std::to_string(waiting_.size()) +
                                           " requests already wait for " + origin_.origin()));
    return;
  }
  waiting_.push_back(std::move(ex));
  pump();
}

void OriginPool::pump() {
  while (!waiting_.empty()) {
    if (waiting_.front()->done()) {
      waiting_.pop_front();
      continue;
    }
    auto it = std::find_if(connections_.begin(), connections_.end(),
                           [](const auto& c) { return c->can_take(); });
    if (it == connections_.end()) break;
    auto conn = *it;  // keep alive: submit may close it
    auto ex = std::move(waiting_.front());
    waiting_.pop_front();
    dispatch(*conn, std::move(ex));
  }
  maybe_dial();
}

void OriginPool::dispatch(Connection& c, std::shared_ptr<Exchange> ex) {
  ex->begin_attempt(&c);
  if (observed()) {  // the hot path builds no strings nobody reads
    if (c.used()) emit(EventKind::connection_reused, c.id(), c.protocol(), {}, ex->describe());
    emit(EventKind::request_start, c.id(), c.protocol(), {},
         ex->describe() + " (attempt " + std::to_string(ex->attempts()) + ")");
  }
  if (options_.response_header_timeout.count() > 0) {
    ex->arm_header_timeout(options_.response_header_timeout, while_alive([this](Exchange& e) {
      auto keep = e.shared_from_this();
      if (auto* carrier = e.carrier()) carrier->abandon(e);
      e.set_carrier(nullptr);
      retry_or_complete(keep, Error(errc::response_header_timeout,
                                    "no response header within " +
                                        std::to_string(options_.response_header_timeout.count()) + " ms",
                                    progress::sent));
    }));
  }
  c.submit(std::move(ex));
}

bool OriginPool::dial_needed() const {
  const auto live_waiters = std::count_if(waiting_.begin(), waiting_.end(),
                                          [](const auto& e) { return !e->done(); });
  if (live_waiters == 0 || shut_down_) return false;
  // Draining connections are on their way out and do not hold a slot.
  const auto slots_used =
      std::count_if(connections_.begin(), connections_.end(),
                    [](const auto& c) { return c->state() != ConnState::draining; }) +
      (dial_ ? 1 : 0);
  if (static_cast<std::uint32_t>(slots_used) >= options_.max_conns_per_origin) return false;
  if (dial_) return false;  // one dial at a time: coalesces HTTP/2 and bounds dial storms
  if (redial_scheduled_) {
    // Backing off after dial failures holds back only requests that asked to
    // wait for readiness; anyone else gets a fresh dial at once.
    return std::any_of(waiting_.begin(), waiting_.end(),
                       [](const auto& e) { return !e->done() && !e->wait_for_ready(); });
  }
  return true;
}

void OriginPool::maybe_dial() {
  if (!dial_needed()) return;
  if (services_.counters) ++services_.counters->dials;
  emit(EventKind::dial_start, 0, protocol_, {}, origin_.origin());
  dial_ = net::Dial::start(services_.executor, origin_, options_, services_.tls,
                           while_alive([this](Error err, net::DialResult result) {
                             on_dialed(std::move(err), std::move(result));
                           }));
}

void OriginPool::on_dialed(Error err, net::DialResult result) {
  dial_.reset();
  if (shut_down_) return;
  if (err) {
    ++consecutive_dial_failures_;
    if (services_.counters) ++services_.counters->dial_failures;
    emit(EventKind::dial_failed, 0, protocol_, err.code(), err.message());
    fail_waiting_after_dial_error(err);
    return;
  }
  consecutive_dial_failures_ = 0;
  redial_scheduled_ = false;
  redial_timer_.cancel();
  protocol_ = result.protocol;
  const auto id = services_.next_connection_id();
  emit(EventKind::dial_done, id, result.protocol, {},
       origin_.origin() + " " + to_string(result.protocol) +
           (result.tls_cipher.empty() ? "" : " " + result.tls_cipher));
  if (services_.counters) ++services_.counters->connections_open;
  connections_.push_back(make_connection(*this, id, result.protocol, std::move(result.stream), options_));
  pump();
}

void OriginPool::fail_waiting_after_dial_error(const Error& err) {
  // Requests that did not ask to wait fail fast with the dial error; the
  // others stay queued for a redial after backoff, within their deadlines.
  std::deque<std::shared_ptr<Exchange>> keep;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& ex : waiting) {
    if (ex->done()) continue;
    if (ex->wait_for_ready()) {
      keep.push_back(std::move(ex));
      continue;
    }
    Error e = err;
    e.set_where(ex->describe() + ": " + err.where()).set_attempts(std::max(ex->attempts(), 1));
    finish(ex, std::move(e));
  }
  for (auto& ex : keep) waiting_.push_back(std::move(ex));
  if (!waiting_.empty()) schedule_redial();
}

void OriginPool::schedule_redial() {
  if (redial_scheduled_) return;
  redial_scheduled_ = true;
  const double r = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  redial_timer_.expires_after(
      retry::backoff_delay(consecutive_dial_failures_, options_.backoff_base, options_.backoff_max, r));
  redial_timer_.async_wait(while_alive([this](boost::system::error_code ec) {
    if (ec) return;
    redial_scheduled_ = false;
    pump();
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
  // Defer: the connection is still inside its own callback.
  asio::post(services_.executor, while_alive([this, keep_alive] { pump(); }));
}

void OriginPool::on_attempt_done(const std::shared_ptr<Exchange>& ex, Result<Response> result) {
  if (ex->done()) return;  // its deadline or cancellation already completed it
  ex->set_carrier(nullptr);
  if (result) {
    result->attempts(ex->attempts());
    finish(ex, std::move(result));
    return;
  }
  retry_or_complete(ex, std::move(result).error());
}

void OriginPool::retry_or_complete(const std::shared_ptr<Exchange>& ex, Error err) {
  const Request& r = ex->request();
  const retry::RequestFacts facts{r.method(), r.headers().contains("idempotency-key"), true,
                                  r.retry_policy(), ex->attempts(), options_.max_attempts};
  const retry::Verdict verdict = retry::decide({err.code(), err.reached()}, facts);
  const bool within_budget =
      verdict.action == retry::Action::retry_now && services_.budget->try_spend(Clock::now());
  if (within_budget && !shut_down_) {
    if (services_.counters) ++services_.counters->retries;
    emit(EventKind::retry, 0, protocol_, err.code(),
         ex->describe() + ": " + std::string(verdict.reason) + " (after " + err.message() + ")");
    waiting_.push_front(ex);
    asio::post(services_.executor, while_alive([this] { pump(); }));
    return;
  }
  std::string why = verdict.action == retry::Action::retry_now ? "retry budget exhausted"
                                                               : std::string(verdict.reason);
  err.set_where(err.where().empty() ? ex->describe() + " (" + why + ")"
                                    : ex->describe() + " on " + err.where() + " (" + why + ")")
      .set_attempts(ex->attempts());
  finish(ex, std::move(err));
}

void OriginPool::finish(const std::shared_ptr<Exchange>& ex, Result<Response> result) {
  if (ex->done()) return;
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
    if (c->state() == ConnState::ready && c->active() == 0 && now - c->idle_since() >= options_.idle_timeout)
      idle.push_back(c);
  for (const auto& c : idle) c->close(Error(errc::connection_closed, c->describe() + ": idle timeout"));
  return connections_.empty() && waiting_.empty() && !dial_ && !redial_scheduled_;
}

void OriginPool::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  redial_timer_.cancel();
  if (dial_) dial_->cancel();
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& ex : waiting) finish(ex, Error(errc::client_shut_down, ex->describe()));
  auto conns = connections_;
  for (auto& c : conns) c->close(Error(errc::client_shut_down, c->describe() + ": client shut down"));
  for (auto& c : connections_) c->detach();
  connections_.clear();
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
  n.dialing = dial_ ? 1 : 0;
  n.waiting = static_cast<std::size_t>(
      std::count_if(waiting_.begin(), waiting_.end(), [](const auto& e) { return !e->done(); }));
  return n;
}

std::string OriginPool::dump() const {
  std::ostringstream os;
  const auto n = counts();
  os << origin_.origin() << ": ready " << n.ready << ", busy " << n.busy << ", draining " << n.draining
     << ", dialing " << n.dialing << ", waiting " << n.waiting;
  for (const auto& c : connections_) os << "\n  " << *c;
  return os.str();
}

void OriginPool::on_connection_event(Connection& c, EventKind kind, std::string detail) {
  emit(kind, c.id(), c.protocol(), {}, std::move(detail));
}

void OriginPool::emit(EventKind kind, std::uint64_t conn, Protocol p, error_code ec, std::string detail) {
  if (!services_.emit) return;
  services_.emit(Event{kind, Clock::now(), origin_.origin(), conn, p, ec, std::move(detail)});
}

}  // namespace rebound::pool
