// Fakes for the origin pool's seams: a clock the test advances by hand, a
// connector whose dials the test completes, and connections whose requests
// the test answers, refuses or loses - so every transition of the pool's
// state machine can be driven without a socket or a sleep.
#pragma once

#include "pool/connector.hpp"
#include "pool/pool_clock.hpp"

#include <rebound/credentials.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace rebound::pool::fakes {

class ManualClock final : public PoolClock {
 public:
  Clock::time_point now() const override { return now_; }
  ScheduledCall call_after(Clock::duration delay, std::function<void()> f) override {
    auto token = std::make_shared<int>(0);
    calls_.push_back({now_ + delay, token, std::move(f)});
    return token;
  }
  /// Moves time on and runs every call that fell due (and was not cancelled).
  void advance(Clock::duration d) {
    now_ += d;
    for (bool ran = true; ran;) {
      ran = false;
      for (auto it = calls_.begin(); it != calls_.end(); ++it) {
        if (it->due > now_) continue;
        auto call = std::move(*it);
        calls_.erase(it);
        if (!call.token.expired()) call.f();
        ran = true;
        break;
      }
    }
  }
  /// Calls pending and not cancelled.
  std::size_t pending() const {
    return static_cast<std::size_t>(std::count_if(calls_.begin(), calls_.end(), [](const auto& c) { return !c.token.expired(); }));
  }

 private:
  struct Call {
    Clock::time_point due;
    std::weak_ptr<void> token;
    std::function<void()> f;
  };
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1));
  std::vector<Call> calls_;
};

class FakeDial final : public net::Dial {
 public:
  explicit FakeDial(net::DialHandler done) : done_(std::move(done)) {}
  void cancel() override { cancelled = true; }
  bool reached_peer() const noexcept override { return reached; }
  bool racing() const noexcept override { return racing_addresses; }
  bool finished() const { return finished_ || cancelled; }
  void complete(Error err, net::DialResult result) {
    finished_ = true;
    auto done = std::move(done_);
    done(std::move(err), std::move(result));
  }
  bool cancelled = false;
  bool reached = false;  ///< TCP connected, TLS still to come
  bool racing_addresses = false;  ///< Happy Eyeballs: addresses still to try

 private:
  net::DialHandler done_;
  bool finished_ = false;
};

/// A connection whose requests the test resolves. Capacity 1 behaves like
/// HTTP/1.1 (busy while one request runs), more like HTTP/2 streams.
class FakeConnection final : public Connection {
 public:
  FakeConnection(ConnectionOwner& owner, std::uint64_t id, Protocol protocol, std::size_t capacity, const PoolClock& clock)
      : Connection(owner, id, protocol), capacity_(capacity), clock_(clock) {
    mark_idle(clock.now());
  }

  std::size_t active() const noexcept override { return running_.size(); }
  bool limits_pending() const noexcept override { return limits_pending_; }
  bool suspect() const noexcept override { return suspect_; }
  void submit(std::shared_ptr<Exchange> ex) override {
    // A real connection reports an attempt from inside its protocol
    // library's callbacks (nghttp2's on_stream_close): a submit from there
    // re-enters the library.
    if (handing_back_) ++reentrant_submits;
    if (on_submit) on_submit(*ex);
    ex->set_carrier(this);
    running_.push_back(std::move(ex));
    mark_used();
    if (running_.size() >= capacity_) transition(ConnState::busy);
  }
  void abandon(Exchange& ex, Abandon) override {
    std::erase_if(running_, [&](const auto& e) { return e.get() == &ex; });
    regain_capacity();
  }
  void shutdown() override { drain(); }
  void retire(std::string) override {
    drain();
    if (state() == ConnState::draining)
      if (auto* o = owner()) o->on_capacity_changed(*this);
  }
  void close(const Error& why) override {
    if (state() == ConnState::closed) return;
    transition(ConnState::closed);
    std::vector<InFlight> attempts;
    for (auto& ex : running_) attempts.push_back({std::move(ex), true, false, {}, {}});
    running_.clear();
    close_attempts(why, std::move(attempts));
  }

  // --- what the test makes the peer do ---
  /// The oldest running request gets a response.
  void respond(int status = 200, std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto ex = take_front();
    Response r;
    r.status(status).protocol(protocol()).connection(id(), false);
    for (auto& [name, value] : headers) r.headers().add(std::move(name), std::move(value));
    hand_back(ex, std::move(r));
    regain_capacity();
  }
  /// The oldest running request fails with `code`, having got `reached` far.
  void fail_front(errc code, progress reached) {
    auto ex = take_front();
    hand_back(ex, Error(code, describe(), reached));
    regain_capacity();
  }
  /// GOAWAY: no new requests; closes once the running ones are done.
  void goaway() {
    drain();
    if (state() == ConnState::draining)
      if (auto* o = owner()) o->on_capacity_changed(*this);
    if (auto* o = owner()) o->on_connection_event(*this, EventKind::goaway, describe());
  }
  const std::deque<std::shared_ptr<Exchange>>& running() const { return running_; }
  /// As an HTTP/2 connection after a stream timed out: takes nothing new
  /// (busy) until it hears from the peer (prove_alive()).
  void become_suspect() {
    if (state() != ConnState::ready && state() != ConnState::busy) return;
    suspect_ = true;
    if (state() == ConnState::ready) transition(ConnState::busy);
    if (auto* o = owner()) o->on_capacity_changed(*this);
  }
  void prove_alive() {
    if (!suspect_) return;
    suspect_ = false;
    regain_capacity();
  }
  /// Off: the connection never says when it went idle (idle_since() stays
  /// at its creation), as HTTP/2 connections once did: the pool must not
  /// rely on the protocol's bookkeeping alone to tell in-use from idle.
  bool reports_idle = true;
  /// Submits the pool made from inside this connection's on_attempt_done.
  int reentrant_submits = 0;
  /// Called for every request the pool puts on this connection (sent).
  std::function<void(const Exchange&)> on_submit;
  /// Starts like a fresh HTTP/2 connection before the peer's SETTINGS:
  /// one request at most until learn_limits().
  void await_limits() {
    limits_pending_ = true;
    capacity_after_limits_ = capacity_;
    capacity_ = 1;
  }
  /// The peer's limits arrived.
  void learn_limits() {
    limits_pending_ = false;
    suspect_ = false;  // the peer spoke: as any frame read, that proves it alive
    capacity_ = capacity_after_limits_;
    regain_capacity();
    if (state() == ConnState::busy)
      if (auto* o = owner()) o->on_capacity_changed(*this);
  }

 private:
  void hand_back(const std::shared_ptr<Exchange>& ex, Result<Response> r) {
    auto* o = owner();
    if (!o) return;
    handing_back_ = true;
    o->on_attempt_done(ex, std::move(r));
    handing_back_ = false;
  }
  std::shared_ptr<Exchange> take_front() {
    auto ex = std::move(running_.front());
    running_.pop_front();
    return ex;
  }
  void drain() {
    if (state() == ConnState::ready || state() == ConnState::busy) transition(ConnState::draining);
    regain_capacity();
  }
  void regain_capacity() {
    if (state() == ConnState::draining) {
      if (running_.empty()) close(Error(errc::connection_closed, describe() + ": drained"));
      return;
    }
    if (state() == ConnState::closed) return;
    if (running_.empty() && reports_idle) mark_idle(clock_.now());
    if (state() == ConnState::busy && running_.size() < capacity_ && !suspect_) transition(ConnState::ready);
    if (state() == ConnState::ready)
      if (auto* o = owner()) o->on_ready(*this);
  }

  std::size_t capacity_;
  std::size_t capacity_after_limits_ = 0;
  bool limits_pending_ = false;
  bool suspect_ = false;
  bool handing_back_ = false;
  const PoolClock& clock_;
  std::deque<std::shared_ptr<Exchange>> running_;
};

class FakeConnector final : public Connector {
 public:
  explicit FakeConnector(const PoolClock& clock) : clock_(clock) {}
  std::shared_ptr<net::Dial> dial(const Url&, net::DialHandler done) override {
    dials.push_back(std::make_shared<FakeDial>(std::move(done)));
    return dials.back();
  }
  std::shared_ptr<Connection> connect(ConnectionOwner& owner, std::uint64_t id, net::DialResult dialed) override {
    const std::size_t capacity = dialed.protocol == Protocol::http2 ? h2_streams : 1;
    connections.push_back(std::make_shared<FakeConnection>(owner, id, dialed.protocol, capacity, clock_));
    if (dialed.protocol == Protocol::http2 && h2_limits_pending) connections.back()->await_limits();
    if (dialed.protocol == Protocol::http2) connections.back()->reports_idle = h2_reports_idle;
    if (on_submit)
      connections.back()->on_submit = [this, c = connections.back().get()](const Exchange& e) { on_submit(*c, e); };
    return connections.back();
  }

  /// Dials started and neither completed nor cancelled.
  std::size_t in_flight() const {
    return static_cast<std::size_t>(std::count_if(dials.begin(), dials.end(), [](const auto& d) { return !d->finished(); }));
  }
  /// Completes the oldest dial in flight.
  void succeed(Protocol p, std::uint64_t tls_generation = 0) {
    next()->complete({}, net::DialResult{nullptr, p, {}, tls_generation});
  }
  void fail(errc code) { next()->complete(Error(code, "fake dial", progress::not_sent), {}); }

  std::size_t h2_streams = 100;
  /// New HTTP/2 connections wait for learn_limits() (the peer's SETTINGS).
  bool h2_limits_pending = false;
  /// New HTTP/2 connections keep idle_since() up to date (see FakeConnection::reports_idle).
  bool h2_reports_idle = true;
  /// When set, told of every request put on any connection made from now on.
  std::function<void(FakeConnection&, const Exchange&)> on_submit;
  std::vector<std::shared_ptr<FakeDial>> dials;
  std::vector<std::shared_ptr<FakeConnection>> connections;

 private:
  std::shared_ptr<FakeDial> next() {
    for (auto& d : dials)
      if (!d->finished()) return d;
    throw std::logic_error("no dial in flight");
  }
  const PoolClock& clock_;
};

/// A credential source that answers only when the test says so (an exec
/// plugin taking its time): each fetch is held until answer(), which calls
/// its `done` as the source's own thread would (the pool posts it back).
class HeldCredentialSource final : public CredentialSource {
 public:
  void fetch(const std::optional<Credential>& rejected, std::function<void(Result<Credential>)> done) override {
    if (inline_answer) {
      done(*inline_answer);
      if (keep_after_inline) held.push_back({rejected, std::move(done)});  // to answer again later
      return;
    }
    held.push_back({rejected, std::move(done)});
  }
  /// Answers the oldest held fetch.
  void answer(Result<Credential> c) {
    auto f = std::move(held.front());
    held.pop_front();
    f.done(std::move(c));
  }
  /// Answers the oldest held fetch twice (a buggy source).
  void answer_twice(Result<Credential> c) {
    auto f = std::move(held.front());
    held.pop_front();
    f.done(c);
    f.done(std::move(c));
  }
  /// The oldest held fetch is never answered: its `done` is dropped.
  void drop() { held.pop_front(); }
  /// With inline_answer: the fetch is also held after its inline answer, so
  /// the test can make the source answer a second time (a buggy source).
  bool keep_after_inline = false;
  /// When set, every fetch answers at once with it (a fixed token).
  std::optional<Credential> inline_answer;
  struct Fetch {
    std::optional<Credential> rejected;
    std::function<void(Result<Credential>)> done;
  };
  std::deque<Fetch> held;
};

}  // namespace rebound::pool::fakes
