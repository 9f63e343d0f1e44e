// A conn::ConnectionOwner for harnesses: stands where the origin pool stands,
// completes each attempt the connection hands back (no retries), and checks
// the contract on every call: an attempt is handed back at most once, never
// after it was abandoned; the close is reported once, with nothing left on
// the connection; responses respect the body limit. At the end,
// check_all_completed() asserts each request's callback ran exactly once.
#pragma once

#include "inflight/completion_queue.hpp"
#include "fuzz_check.hpp"
#include "conn/connection.hpp"
#include "server_script.hpp"

#include <rebound/options.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>

namespace rebound::fuzz {

class OwnerProbe final : public conn::ConnectionOwner {
 public:
  OwnerProbe(boost::asio::io_context& io, const Options& options, Protocol protocol)
      : io_(io), completions_(io.get_executor()), options_(options), protocol_(protocol),
        url_(std::make_shared<const Url>(*parse_url("http://fuzz.test/p"))) {}

  /// Builds a request of `kind` and submits it to `c` (which must take it).
  void submit(conn::Connection& c, RequestKind kind) {
    Tracked& t = tracked_.emplace_back();
    t.streamed = kind == RequestKind::get_streamed;
    Request r = make_request(kind, t);
    t.ex = std::make_shared<inflight::Exchange>(
        io_.get_executor(), completions_, std::move(r), url_, inflight::Clock::now() + std::chrono::hours(1), false,
        inflight::Completion(std::in_place_index<0>, [&t](Result<Response>) { ++t.callbacks; }));
    t.ex->begin_attempt(&c);
    c.submit(t.ex);
  }

  /// Cancels the oldest request still running, as a deadline would: it
  /// completes here, then its carrier is told to let it go.
  void abandon_first_running() {
    for (Tracked& t : tracked_) {
      if (t.ex->done()) continue;
      auto* carrier = t.ex->carrier();
      t.abandoned = true;
      t.ex->complete(Error(errc::cancelled, "fuzz: abandoned", carrier ? progress::sent : progress::not_sent));
      if (carrier) carrier->abandon(*t.ex, rebound::inflight::AttemptCarrier::Abandon::timed_out);
      return;
    }
  }

  bool closed() const noexcept { return closed_; }
  int capacity_changes() const noexcept { return capacity_changes_; }
  std::size_t submitted() const noexcept { return tracked_.size(); }

  void check_all_completed() const {
    FUZZ_CHECK(completions_.dropped() == 0, "%llu double completions", (unsigned long long)completions_.dropped());
    for (const Tracked& t : tracked_) {
      FUZZ_CHECK(t.callbacks == 1, "request %llu completed %d times", (unsigned long long)t.ex->id(), t.callbacks);
      FUZZ_CHECK(t.handed_back == (t.abandoned ? 0 : 1), "request %llu handed back %d times (abandoned: %d)",
                 (unsigned long long)t.ex->id(), t.handed_back, int(t.abandoned));
    }
  }

  // --- conn::ConnectionOwner ---
  void on_ready(conn::Connection& c) override {
    FUZZ_CHECK(!closed_, "on_ready after on_closed");
    FUZZ_CHECK(c.state() == conn::ConnState::ready, "on_ready in state %s", conn::to_string(c.state()));
  }

  void on_closed(conn::Connection& c, const Error& why) override {
    FUZZ_CHECK(!closed_, "on_closed twice");
    FUZZ_CHECK(c.state() == conn::ConnState::closed, "on_closed in state %s", conn::to_string(c.state()));
    FUZZ_CHECK(c.active() == 0, "closed with %zu requests still on it", c.active());
    FUZZ_CHECK(why.code(), "closed without a reason");
    closed_ = true;
  }

  // The pool would dial beside the connection; one connection alone has
  // nothing to do with it (the pool model checks the pool's side).
  void on_capacity_changed(conn::Connection&) override { ++capacity_changes_; }

  void on_attempt_done(const std::shared_ptr<inflight::Exchange>& ex, Result<Response> result) override {
    // No check against closed_: HTTP/1.1 reports its close first and then
    // hands back the attempt that ended it (h1_connection.cpp reads owner()
    // before closing for that), although ConnectionOwner::on_closed says
    // "it will never report again". The pool copes; the count below holds.
    Tracked* t = find(*ex);
    FUZZ_CHECK(t, "an attempt that was never submitted came back");
    FUZZ_CHECK(!t->abandoned, "an abandoned attempt came back");
    FUZZ_CHECK(++t->handed_back == 1, "attempt handed back twice");
    check_result(*t, result);
    if (verbose()) {
      if (result) std::fprintf(stderr, "request %llu: %d, %zu body bytes, %zu streamed\n", (unsigned long long)ex->id(),
                               result->status(), result->body().size(), t->sink_bytes);
      else std::fprintf(stderr, "request %llu: %s\n", (unsigned long long)ex->id(), result.error().message().c_str());
    }
    ex->set_carrier(nullptr);
    ex->complete(std::move(result));
  }

  void on_connection_event(conn::Connection&, EventKind, std::string detail) override {
    FUZZ_CHECK(!detail.empty(), "event without detail");
  }

 private:
  struct Tracked {
    std::shared_ptr<inflight::Exchange> ex;
    bool streamed = false;
    bool abandoned = false;
    int handed_back = 0;
    int callbacks = 0;
    std::size_t sink_bytes = 0;
  };

  Request make_request(RequestKind kind, Tracked& t) {
    switch (kind) {
      case RequestKind::get: return Request::get(url_->str());
      case RequestKind::head: return Request("HEAD", url_->str());
      case RequestKind::post_large: return Request::post(url_->str(), std::string(70000, 'b'));
      case RequestKind::get_streamed:
        return Request::get(url_->str()).on_body([&t](std::string_view chunk) { t.sink_bytes += chunk.size(); });
    }
    return {};
  }

  // FUZZ_VERBOSE=1: say how each attempt ended (to check what a seed reaches).
  static bool verbose() {
    static const bool on = std::getenv("FUZZ_VERBOSE") != nullptr;
    return on;
  }

  Tracked* find(const inflight::Exchange& ex) {
    for (Tracked& t : tracked_)
      if (t.ex.get() == &ex) return &t;
    return nullptr;
  }

  void check_result(const Tracked& t, const Result<Response>& result) const {
    if (!result) {
      const Error& e = result.error();
      FUZZ_CHECK(e.code(), "an error without a code");
      if (e.code() == errc::truncated_response)
        FUZZ_CHECK(e.reached() == progress::response_started, "a truncated response that never started");
      return;
    }
    const Response& r = *result;
    FUZZ_CHECK(r.protocol() == protocol_, "response on the wrong protocol");
    FUZZ_CHECK(r.status() >= 0 && r.status() <= 999, "status %d", r.status());
    if (protocol_ == Protocol::http2) FUZZ_CHECK(r.status() >= 200, "HTTP/2 final status %d", r.status());
    if (t.streamed) {
      FUZZ_CHECK(r.body().empty(), "a streamed body also landed in the response (%zu bytes)", r.body().size());
    } else {
      FUZZ_CHECK(r.body().size() <= options_.max_response_body, "body of %zu bytes over the %llu limit",
                 r.body().size(), (unsigned long long)options_.max_response_body);
    }
  }

  boost::asio::io_context& io_;
  inflight::CompletionQueue completions_;
  const Options& options_;
  Protocol protocol_;
  std::shared_ptr<const Url> url_;
  std::deque<Tracked> tracked_;  // stable addresses: completions point at their entry
  bool closed_ = false;
  int capacity_changes_ = 0;
};

}  // namespace rebound::fuzz
