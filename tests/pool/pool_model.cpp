// The pool model's driver: acts as the shard (deadlines, cancels, reaping,
// dropping an empty pool, shutdown) and as the whole network around one
// OriginPool, recording on its own side what each exchange went through,
// and checks the pool against that record after every step.
#include "pool/pool_model.hpp"

#include "pool/fakes.hpp"
#include "pool/origin_pool.hpp"

#include "inflight/completion_queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace rebound::pool::model {

const char* to_string(Step s) noexcept {
  static constexpr const char* names[step_kinds] = {
      "submit",       "dial_http1",   "dial_http2",     "dial_fail",         "respond",          "refuse_stream",
      "lose_stream",  "peer_close",   "goaway",         "stream_timeout",    "ping_ack",         "ping_timeout",
      "learn_limits", "credential_answer", "credential_twice", "credential_fail", "credential_never", "cancel",
      "tick",         "clock_jump",   "reap",           "shutdown"};
  const auto i = static_cast<std::size_t>(s);
  return i < step_kinds ? names[i] : "?";
}

namespace {

using namespace std::chrono_literals;
using inflight::Clock;
using inflight::Exchange;
using fakes::FakeConnection;

// How late past its deadline an exchange may complete: the deadline is
// acted on when the clock passes it, and the clock moves in steps.
constexpr Clock::duration deadline_slack = 1ms;
// The shard's reaper interval (client/shard.cpp), slices of time included.
constexpr Clock::duration reaper_tick = 1100ms;

struct Violation {
  std::string what;
};

class Driver {
 public:
  Driver(Choices& choices, std::size_t max_steps) : choices_(choices), max_steps_(max_steps) {}

  Report run() {
    configure();
    try {
      for (std::size_t i = 0; i < max_steps_ && choices_.more(); ++i) {
        step();
        check();
        if (shut_down_ && ++after_shutdown_ > 20) break;  // late answers after it, then stop
      }
      if (!shut_down_) {
        healthy_spell();
        do_shutdown();
        check();
      }
      check_after_shutdown();
    } catch (const Violation& v) {
      report_.violation = v.what + "\n-- last steps:\n" + trace() + "-- pool: " + (pool_ ? pool_->dump() : "(dropped)") +
                          "\n-- live requests:\n" + live_state();
    }
    report_.exchanges = records_.size();
    return std::move(report_);
  }

 private:
  struct Record {
    // Weak: the caller does not keep an exchange alive, so one the pool
    // lets go of dies (and completes "dropped") as it would in production.
    std::weak_ptr<Exchange> ex;
    std::uint64_t id = 0;
    std::string method;
    Clock::time_point deadline;
    int completions = 0;
    int sends = 0;
    bool maybe_processed = false;  // an attempt ended where the server may have run it
    bool credential_never = false; // its credential fetch was dropped unanswered
    std::string shut_down_error;   // its message, when it failed with client_shut_down
    bool queue_full = false;       // refused because the origin's queue was full
  };

  // --- configuration ------------------------------------------------------

  void configure() {
    static const char* const origins[] = {"http://origin.test:80", "https://origin.test:443", "http://origin.test:8080"};
    const auto o = pick(3);
    origin_ = origins[o];
    if (o == 2) options_.http_version = HttpVersion::http2_prior_knowledge;
    origin_protocol_ = o == 0 ? Protocol::http1 : o == 2 ? Protocol::http2 : (pick(2) ? Protocol::http2 : Protocol::http1);
    options_.max_conns_per_origin = 1 + pick(3);
    options_.max_queued_per_origin = 3 + pick(6);
    options_.max_attempts = 2 + static_cast<int>(pick(3));
    options_.dial_stagger = pick(2) ? 200ms : 0ms;
    options_.idle_timeout = 30s;
    options_.response_header_timeout = 0ms;  // a real timer: the shard's deadlines stand for it
    connector_.h2_streams = 1 + pick(3);
    connector_.h2_limits_pending = pick(2);
    connector_.h2_reports_idle = pick(2);
    connector_.on_submit = [this](FakeConnection& c, const Exchange& e) { on_sent(c, e); };
    credentials_mode_ = pick(3);  // none, inline, held
    if (credentials_mode_ > 0) {
      credentials_ = std::make_shared<fakes::HeldCredentialSource>();
      if (credentials_mode_ == 1) {
        credentials_->inline_answer = token_;
        credentials_->keep_after_inline = pick(2);  // a source that may answer again later
      }
    }
    url_ = std::make_shared<const Url>(*parse_url(origin_ + "/path"));
  }

  OriginPool& pool() {
    if (!pool_) {  // as the shard: a pool per origin, made on demand
      PoolServices s;
      s.executor = io_.get_executor();
      s.options = &options_;
      s.connector = &connector_;
      s.clock = &clock_;
      s.next_connection_id = [this] { return ++connection_ids_; };
      s.credentials = credentials_;
      s.post_from_any_thread = [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); };
      pool_ = std::make_shared<OriginPool>(std::move(s), *parse_url(origin_));
    }
    return *pool_;
  }

  // --- the driver's own record ---------------------------------------------

  Record& record_of(const Exchange& e) { return records_.at(index_.at(e.id())); }
  std::size_t number_of(const Exchange& e) const { return index_.at(e.id()); }
  /// Neither completed nor destroyed.
  bool live(std::size_t i) const {
    auto ex = records_[i].ex.lock();
    return ex && !ex->done();
  }

  void on_sent(FakeConnection& c, const Exchange& e) {
    auto& r = record_of(e);
    if (shut_down_) fail("request " + std::to_string(number_of(e)) + " sent after shutdown");
    if (r.maybe_processed && !idempotent(r.method))
      fail("a " + r.method + " the server may have processed was sent again (request " +
           std::to_string(number_of(e)) + ", attempt " + std::to_string(r.sends + 1) + ")");
    ++r.sends;
    last_use_[&c] = clock_.now();
  }

  static bool idempotent(const std::string& m) { return m == "GET" || m == "PUT"; }

  // --- steps ----------------------------------------------------------------

  std::vector<std::shared_ptr<FakeConnection>> live_connections() const {
    std::vector<std::shared_ptr<FakeConnection>> out;
    for (const auto& c : connector_.connections)
      if (c->state() != ConnState::closed) out.push_back(c);
    return out;
  }
  std::vector<std::shared_ptr<FakeConnection>> with_running(bool h2_only = false) const {
    std::vector<std::shared_ptr<FakeConnection>> out;
    for (const auto& c : live_connections())
      if (!c->running().empty() && (!h2_only || c->protocol() == Protocol::http2)) out.push_back(c);
    return out;
  }
  std::vector<std::shared_ptr<fakes::FakeDial>> pending_dials() const {
    std::vector<std::shared_ptr<fakes::FakeDial>> out;
    for (const auto& d : connector_.dials)
      if (!d->finished()) out.push_back(d);
    return out;
  }
  std::vector<std::size_t> live_records() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < records_.size(); ++i)
      if (live(i)) out.push_back(i);
    return out;
  }

  bool enabled(Step s) const {
    switch (s) {
      case Step::submit: return !shut_down_;
      case Step::dial_http1:
      case Step::dial_http2:
      case Step::dial_fail: return !pending_dials().empty();
      case Step::respond:
      case Step::refuse_stream:
      case Step::lose_stream: return !with_running().empty();
      case Step::peer_close:
      case Step::goaway: return !live_connections().empty();
      case Step::stream_timeout: return !with_running(true).empty();
      case Step::ping_ack:
      case Step::ping_timeout:
        return std::any_of(connector_.connections.begin(), connector_.connections.end(),
                           [](const auto& c) { return c->state() != ConnState::closed && c->suspect(); });
      case Step::learn_limits:
        return std::any_of(connector_.connections.begin(), connector_.connections.end(),
                           [](const auto& c) { return c->state() != ConnState::closed && c->limits_pending(); });
      case Step::credential_answer:  // held: the oldest fetch answers; inline: the token rotates
        return credentials_ && (!credentials_->held.empty() || credentials_->inline_answer);
      case Step::credential_twice:
      case Step::credential_fail:
      case Step::credential_never: return credentials_ && !credentials_->held.empty();
      case Step::cancel: return !live_records().empty();
      case Step::tick:
      case Step::clock_jump:
      case Step::reap: return true;
      case Step::shutdown: return !shut_down_;
      case Step::count_: return false;
    }
    return false;
  }

  void step() {
    // Weighted: the common things often, shutdown rarely.
    static constexpr std::pair<Step, int> weights[] = {
        {Step::submit, 8},         {Step::dial_http1, 2},        {Step::dial_http2, 3},      {Step::dial_fail, 2},
        {Step::respond, 6},        {Step::refuse_stream, 2},     {Step::lose_stream, 2},     {Step::peer_close, 1},
        {Step::goaway, 1},         {Step::stream_timeout, 2},    {Step::ping_ack, 1},        {Step::ping_timeout, 1},
        {Step::learn_limits, 2},   {Step::credential_answer, 4}, {Step::credential_twice, 1}, {Step::credential_fail, 1},
        {Step::credential_never, 1}, {Step::cancel, 1},          {Step::tick, 5},            {Step::clock_jump, 1},
        {Step::reap, 2},           {Step::shutdown, 0}};
    std::vector<std::pair<Step, int>> can;
    int total = 0;
    for (auto [s, w] : weights) {
      // Shutdown only near the end of a seeded run or when bytes choose it late.
      if (s == Step::shutdown && !shut_down_ && steps_done_ > 40) w = 1;
      if (w > 0 && enabled(s)) {
        can.emplace_back(s, w);
        total += w;
      }
    }
    auto r = static_cast<int>(pick(static_cast<std::uint32_t>(total)));
    Step chosen = can.back().first;
    for (auto [s, w] : can) {
      if (r < w) {
        chosen = s;
        break;
      }
      r -= w;
    }
    ++steps_done_;
    ++report_.steps[static_cast<std::size_t>(chosen)];
    note(to_string(chosen));
    perform(chosen);
    settle();
  }

  void perform(Step s) {
    switch (s) {
      case Step::submit: return submit();
      case Step::dial_http1: return finish_dial(Protocol::http1);
      case Step::dial_http2: return finish_dial(Protocol::http2);
      case Step::dial_fail: {
        static constexpr errc codes[] = {errc::connection_refused, errc::connect_timeout, errc::tls_handshake_failed};
        auto d = any_of(pending_dials());
        const errc code = codes[pick(3)];
        note(std::string(" ") + to_string(code));
        d->complete(Error(code, "model dial", progress::not_sent), {});
        return;
      }
      case Step::respond: {
        auto c = any_of(with_running());
        static constexpr int statuses[] = {200, 200, 200, 401, 429, 503};
        const int status = statuses[pick(6)];
        auto& r = record_of(*c->running().front());
        // A 401 or 429 says the server did not act on it; anything else may have.
        if (status != 401 && status != 429) r.maybe_processed = true;
        last_use_[c.get()] = clock_.now();
        note(" " + std::to_string(status) + " to request " + std::to_string(number_of(*c->running().front())));
        if (status == 429 || status == 503) c->respond(status, {{"retry-after", "1"}});
        else c->respond(status);
        return;
      }
      case Step::refuse_stream: {
        auto c = any_of(with_running());
        last_use_[c.get()] = clock_.now();
        c->fail_front(errc::refused_by_server, progress::refused);
        return;
      }
      case Step::lose_stream: {
        auto c = any_of(with_running());
        record_of(*c->running().front()).maybe_processed = true;
        last_use_[c.get()] = clock_.now();
        c->fail_front(errc::connection_lost_after_send, progress::sent);
        return;
      }
      case Step::peer_close: {
        auto c = any_of(live_connections());
        for (const auto& e : c->running()) record_of(*e).maybe_processed = true;
        c->close(Error(errc::connection_closed, "model: the server closed it"));
        return;
      }
      case Step::goaway: return any_of(live_connections())->goaway();
      case Step::stream_timeout: {
        auto c = any_of(with_running(true));
        auto ex = c->running()[pick(static_cast<std::uint32_t>(c->running().size()))];
        // As the shard: complete it, then tell the carrier - and HTTP/2,
        // told, turns suspect while the stream still counts (its RST_STREAM
        // is yet to be written), so no capacity appears in between.
        ex->complete(Error(errc::deadline_exceeded, ex->describe(), progress::sent, ex->attempts()));
        last_use_[c.get()] = clock_.now();
        c->become_suspect();
        c->abandon(*ex, inflight::AttemptCarrier::Abandon::timed_out);
        return;
      }
      case Step::ping_ack:
      case Step::ping_timeout: {
        std::vector<std::shared_ptr<FakeConnection>> suspects;
        for (const auto& c : live_connections())
          if (c->suspect()) suspects.push_back(c);
        auto c = any_of(suspects);
        if (s == Step::ping_ack) {
          c->prove_alive();
        } else {
          for (const auto& e : c->running()) record_of(*e).maybe_processed = true;
          c->close(Error(errc::health_check_failed, "model: no PING ACK"));
        }
        return;
      }
      case Step::learn_limits: {
        std::vector<std::shared_ptr<FakeConnection>> pending;
        for (const auto& c : live_connections())
          if (c->limits_pending()) pending.push_back(c);
        any_of(pending)->learn_limits();
        return;
      }
      case Step::credential_answer:
        if (credentials_->held.empty()) {  // a source that answers inline: its token rotates
          credentials_->inline_answer = *credentials_->inline_answer == token_ ? token2_ : token_;
          return;
        }
        return credentials_->answer(pick(4) == 0 ? Result<Credential>(token2_) : token_);
      case Step::credential_twice: return credentials_->answer_twice(token_);
      case Step::credential_fail:
        return credentials_->answer(Error(errc::credentials_failed, "model: the plugin failed"));
      case Step::credential_never: {
        // Which exchange it was for is the pool's business; the driver only
        // knows none of the held ones may be wedged on it afterwards.
        credentials_->drop();
        for (auto i : live_records()) records_[i].credential_never = true;  // conservative
        return;
      }
      case Step::cancel: {
        const auto live = live_records();
        abort(*records_[live[pick(static_cast<std::uint32_t>(live.size()))]].ex.lock(), errc::cancelled);
        return;
      }
      case Step::tick: return advance(std::chrono::milliseconds(1 + pick(500)));
      case Step::clock_jump: return advance(std::chrono::seconds(10 + pick(300)));
      case Step::reap: return reap();
      case Step::shutdown: return do_shutdown();
      case Step::count_: return;
    }
  }

  void submit() {
    static const char* const methods[] = {"GET", "GET", "PUT", "POST"};
    const std::size_t i = records_.size();
    Record r;
    r.method = methods[pick(4)];
    r.deadline = clock_.now() + std::chrono::seconds(1 + pick(120));
    const bool wait_for_ready = pick(5) == 0;
    auto ex = std::make_shared<Exchange>(
        io_.get_executor(), completions_, Request(r.method, url_->str()), url_, r.deadline, wait_for_ready,
        inflight::Completion(std::in_place_index<0>, [this, i](Result<Response> res) {
          auto& rec = records_[i];
          ++rec.completions;
          if (!res && res.error() == errc::client_shut_down) rec.shut_down_error = res.error().message();
          if (!res && res.error() == errc::queue_full) rec.queue_full = true;
        }));
    r.ex = ex;
    r.id = ex->id();
    index_[r.id] = i;
    note(" #" + std::to_string(i) + " " + r.method + (wait_for_ready ? " (wait for ready)" : ""));
    records_.push_back(std::move(r));
    std::size_t queued = 0;  // live requests waiting in the queue before this one
    pool().for_each_held([&](const Exchange&, OriginPool::Place p) { queued += p == OriginPool::Place::queued; });
    pool().submit(std::move(ex));
    settle();
    if (records_[i].queue_full && queued < options_.max_queued_per_origin)
      fail("request " + std::to_string(i) + " refused as queue_full with " + std::to_string(queued) +
           " live requests queued (limit " + std::to_string(options_.max_queued_per_origin) + ")");
  }

  void finish_dial(Protocol p) {
    auto d = any_of(pending_dials());
    // An http origin speaks what it is configured to; ALPN decides for https.
    if (origin_.rfind("http:", 0) == 0) p = origin_protocol_;
    d->complete({}, net::DialResult{nullptr, p, {}});
  }

  // What Shard::abort does at a deadline or a cancel.
  void abort(Exchange& ex, errc code) {
    if (ex.done()) return;
    auto* carrier = ex.carrier();
    auto keep = ex.shared_from_this();
    ex.complete(Error(code, ex.describe(), carrier ? progress::sent : progress::not_sent, ex.attempts()));
    if (carrier) {
      for (const auto& c : connector_.connections)
        if (static_cast<inflight::AttemptCarrier*>(c.get()) == carrier) last_use_[c.get()] = clock_.now();
      carrier->abandon(ex, code == errc::deadline_exceeded ? inflight::AttemptCarrier::Abandon::timed_out
                                                           : inflight::AttemptCarrier::Abandon::cancelled);
    }
  }

  void advance(Clock::duration d) {
    // In slices, so deadlines are acted on near their time, between the pool's timers.
    const auto until = clock_.now() + d;
    while (clock_.now() < until) {
      clock_.advance(std::min<Clock::duration>(until - clock_.now(), 100ms));
      settle();
      for (auto i : live_records())
        if (records_[i].deadline <= clock_.now()) abort(*records_[i].ex.lock(), errc::deadline_exceeded);
      settle();
      if (clock_.now() >= next_reaper_tick_) {  // the shard's reaper, every second
        next_reaper_tick_ = clock_.now() + 1s;
        reap();
      }
    }
  }

  void reap() {
    if (!pool_) return;
    // Connections the reaper may close: those idle for idle_timeout by the driver's record.
    std::vector<std::shared_ptr<FakeConnection>> before = live_connections();
    const bool empty = pool_->reap(clock_.now());
    settle();
    for (const auto& c : before) {
      if (c->state() != ConnState::closed) continue;
      const auto used = last_use_.count(c.get()) ? last_use_[c.get()] : Clock::time_point{};
      // The pool sees a request running at each reaper tick, so one that
      // ended by a deadline or cancel (which the shard tells the connection,
      // not the pool) may look idle up to a tick early.
      if (clock_.now() - used < options_.idle_timeout - reaper_tick)
        fail("the reaper closed " + c->describe() + ", which carried a request " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - used).count()) +
             " ms ago (idle_timeout " + std::to_string(options_.idle_timeout.count()) + " ms)");
    }
    if (empty) {
      note(" (pool dropped)");
      pool_.reset();  // as the shard does: an origin used once costs nothing later
      settle();
    }
  }

  void do_shutdown() {
    shut_down_ = true;
    if (pool_) pool_->shutdown();
    settle();
  }

  // A healthy server for a while: every dial connects, every request on a
  // connection that hears from the server is answered, every held credential
  // comes. Suspect connections stay silent (the worst case: no PING may be
  // sent). Whatever waits in the queue must be served by the end.
  void healthy_spell() {
    note("healthy spell");
    for (int round = 0; round < 200; ++round) {
      if (live_records().empty()) break;  // nothing left to serve
      if (credentials_)
        while (!credentials_->held.empty()) credentials_->answer(token_);
      for (const auto& d : pending_dials())
        if (!d->finished()) d->complete({}, net::DialResult{nullptr, origin_protocol_, {}});
      settle();
      for (const auto& c : live_connections()) {
        if (c->limits_pending() && !c->suspect()) c->learn_limits();  // a suspect one stays silent
        while (!c->suspect() && c->state() != ConnState::closed && !c->running().empty()) {
          record_of(*c->running().front()).maybe_processed = true;
          last_use_[c.get()] = clock_.now();
          c->respond(200);
        }
      }
      settle();
      check();
      advance(50ms);
      check();
    }
    for (auto i : live_records()) {
      const auto& r = records_[i];
      if (r.credential_never) continue;
      bool on_suspect = false;
      for (const auto& c : live_connections())
        for (const auto& e : c->running())
          if (e->id() == r.id && c->suspect()) on_suspect = true;
      if (on_suspect) continue;  // its answer is lost with the silent connection: its deadline ends it
      fail("request " + std::to_string(i) + " (" + r.method + ") was not served in 10 s of a healthy server");
    }
  }

  // --- checks -----------------------------------------------------------------

  void check() {
    if (completions_.dropped() > 0) fail("an exchange completed twice");
    // Owners of each live exchange: the pool's places and the connections.
    std::map<std::uint64_t, int> owners;
    if (pool_) pool_->for_each_held([&](const Exchange& e, OriginPool::Place) { ++owners[e.id()]; });
    for (const auto& c : live_connections())
      for (const auto& e : c->running()) ++owners[e->id()];
    for (std::size_t i = 0; i < records_.size(); ++i) {
      const auto& r = records_[i];
      if (r.completions > 1) fail("request " + std::to_string(i) + " completed " + std::to_string(r.completions) + " times");
      if (!r.shut_down_error.empty() && !shut_down_)
        fail("request " + std::to_string(i) + " failed with client_shut_down while the client runs: " + r.shut_down_error);
      if (!live(i)) {
        if (owners.count(r.id)) fail("request " + std::to_string(i) + " completed but still held");
        continue;
      }
      if (clock_.now() > r.deadline + deadline_slack)
        fail("request " + std::to_string(i) + " is still live past its deadline");
      const int n = owners.count(r.id) ? owners[r.id] : 0;
      if (n != 1)
        fail("request " + std::to_string(i) + " (" + r.method + ") is owned by " + std::to_string(n) +
             " places (invariant 6: exactly one)");
    }
    for (const auto& c : connector_.connections)
      if (c->reentrant_submits > 0)
        fail("the pool submitted to " + c->describe() + " from inside its on_attempt_done (re-entering the protocol library)");
    // Invariant 7: slots are what can take a request, or is being dialed.
    if (pool_) {
      std::size_t can_take = 0;
      for (const auto& c : live_connections())
        if (c->state() == ConnState::ready || (c->state() == ConnState::busy && !c->suspect())) ++can_take;
      const std::size_t expected = can_take + pending_dials().size();
      if (pool_->slots_in_use() != expected)
        fail("the pool counts " + std::to_string(pool_->slots_in_use()) + " slots in use; " +
             std::to_string(can_take) + " connections can take a request and " +
             std::to_string(pending_dials().size()) + " dials are in flight (invariant 7)");
    } else if (!live_connections().empty() || !pending_dials().empty()) {
      fail("the pool was dropped with connections or dials still open");
    }
    check_progress();
  }

  // Nothing waits for a trigger that may never come: a request that may go
  // now (not resting, not held by a redial backoff), with a slot free and no
  // connection that could take it and no dial that could serve it, is a
  // wedge - the pool must have dialed in the step that freed the slot.
  void check_progress() {
    if (!pool_ || shut_down_) return;
    const auto now = clock_.now();
    bool may_go = false, held_by_backoff = false;
    pool_->for_each_held([&](const Exchange& e, OriginPool::Place p) {
      if (p != OriginPool::Place::queued || e.resting(now)) return;
      if (e.backing_off() || e.wait_for_ready()) held_by_backoff = true;
      else may_go = true;
    });
    if (!may_go || held_by_backoff || !pending_dials().empty()) return;
    for (const auto& c : live_connections())
      if (c->state() == ConnState::ready || (c->limits_pending() && !c->suspect() && c->state() != ConnState::draining))
        return;
    if (pool_->slots_in_use() < options_.max_conns_per_origin)
      fail("a request waits with a slot free, and no dial or connection will serve it");
  }

  void check_after_shutdown() {
    for (int i = 0; i < 3; ++i) advance(1s);  // late timers, late answers
    if (credentials_)
      while (!credentials_->held.empty()) credentials_->answer(token_);
    settle();
    check();
    if (pool_ && !(pool_->counts() == PoolCounts{})) fail("the pool is not empty after shutdown");
    if (!live_connections().empty()) fail("a connection is open after shutdown");
    if (!pending_dials().empty()) fail("a dial is pending after shutdown");
    for (std::size_t i = 0; i < records_.size(); ++i)
      if (live(i)) fail("request " + std::to_string(i) + " never completed");
    settle();
    for (std::size_t i = 0; i < records_.size(); ++i)
      if (records_[i].completions != 1)
        fail("request " + std::to_string(i) + " completed " + std::to_string(records_[i].completions) + " times");
  }

  // --- plumbing -------------------------------------------------------------

  std::uint32_t pick(std::uint32_t n) { return choices_.below(n); }
  template <class T>
  T any_of(const std::vector<T>& v) {
    return v[pick(static_cast<std::uint32_t>(v.size()))];
  }
  void settle() {
    io_.poll();
    io_.restart();
  }
  void note(const std::string& s) {
    if (s.empty() || s[0] != ' ') {
      trace_.push_back(std::to_string(steps_done_) + ": " + s);
      if (trace_.size() > 40) trace_.pop_front();
    } else if (!trace_.empty()) {
      trace_.back() += s;
    }
  }
  std::string trace() const {
    std::string out;
    for (const auto& t : trace_) out += "  " + t + "\n";
    return out;
  }
  [[noreturn]] void fail(const std::string& what) { throw Violation{what}; }
  // Each live request: where it is held and its retry state (for a failure's report).
  std::string live_state() const {
    std::map<std::uint64_t, std::string> where;
    if (pool_)
      pool_->for_each_held([&](const Exchange& e, OriginPool::Place p) {
        where[e.id()] += p == OriginPool::Place::queued ? " queued" : " authenticating";
      });
    for (const auto& c : live_connections())
      for (const auto& e : c->running()) where[e->id()] += " on " + c->describe() + (c->suspect() ? " (suspect)" : "");
    std::ostringstream os;
    for (auto i : live_records()) {
      auto ex = records_[i].ex.lock();
      os << "  #" << i << " " << records_[i].method << where[ex->id()] << ", attempts " << ex->attempts()
         << (ex->backing_off() ? ", backing off" : "") << (ex->wait_for_ready() ? ", waits for ready" : "")
         << (ex->resting(clock_.now()) ? ", resting" : "") << ", deadline in "
         << std::chrono::duration_cast<std::chrono::milliseconds>(records_[i].deadline - clock_.now()).count()
         << " ms\n";
    }
    os << "  clock calls pending: " << clock_.pending() << ", dials in flight: " << pending_dials().size() << "\n";
    return os.str();
  }

  Choices& choices_;
  std::size_t max_steps_;
  // Before anything that holds exchanges: they complete through these.
  boost::asio::io_context io_;
  inflight::CompletionQueue completions_{io_.get_executor()};
  Options options_;
  fakes::ManualClock clock_;
  fakes::FakeConnector connector_{clock_};
  std::shared_ptr<fakes::HeldCredentialSource> credentials_;
  unsigned credentials_mode_ = 0;
  const Credential token_{{{"authorization", "Bearer t1"}}};
  const Credential token2_{{{"authorization", "Bearer t2"}}};
  std::string origin_;
  Protocol origin_protocol_ = Protocol::http1;
  std::shared_ptr<const Url> url_;
  std::shared_ptr<OriginPool> pool_;
  std::uint64_t connection_ids_ = 0;
  bool shut_down_ = false;
  int after_shutdown_ = 0;
  Clock::time_point next_reaper_tick_{};
  std::size_t steps_done_ = 0;
  std::deque<std::string> trace_;
  Report report_;
  std::vector<Record> records_;
  std::map<std::uint64_t, std::size_t> index_;  // by Exchange::id()
  std::map<const FakeConnection*, Clock::time_point> last_use_;  // a request started or ended on it

};

}  // namespace

Report run(Choices& choices, std::size_t max_steps) { return Driver(choices, max_steps).run(); }

}  // namespace rebound::pool::model
