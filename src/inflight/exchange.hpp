// One request's journey across attempts: the request, its parsed URL, its
// deadline, the caller's completion, and the attempt currently running.
// An Exchange completes exactly once; everything after that is a no-op.
// Lives on its shard's I/O thread; never touched from another thread.
#pragma once

#include <rebound/credentials.hpp>
#include <rebound/error.hpp>
#include <rebound/request.hpp>
#include <rebound/response.hpp>
#include <rebound/url.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rebound::inflight {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
/// The caller's completion, invoked once. A send_async callback is kept as
/// the std::function it came in (no second type-erased wrapper); an Asio
/// handler is erased once.
using Completion = std::variant<std::function<void(Result<Response>)>,
                                asio::any_completion_handler<void(Result<Response>)>>;

/// Invokes whichever callable `completion` holds with `result`; what it
/// throws is counted in `threw` (see caller_code.hpp).
void run_completion(Completion& completion, Result<Response>&& result, const std::shared_ptr<std::atomic<std::uint64_t>>& threw);

/// Posts `completion(result)` to `executor` (from any thread): a completion
/// never runs inside rebound's own call stack.
void post_completion(const asio::any_io_executor& executor, Completion completion, Result<Response> result,
                     std::shared_ptr<std::atomic<std::uint64_t>> threw);

class Exchange;
class DeadlineQueue;
class CompletionQueue;

/// What an exchange's current attempt runs on, so a deadline or cancel can
/// abort it there.
class AttemptCarrier {
 public:
  /// Why an attempt is given up.
  enum class Abandon : std::uint8_t {
    cancelled,  ///< the caller lost interest: says nothing about the connection
    timed_out,  ///< the deadline or header timeout passed: the path may be dead
  };
  /// Stop working on `ex`'s attempt; the carrier must not complete it.
  virtual void abandon(Exchange& ex, Abandon why) = 0;
 protected:
  ~AttemptCarrier() = default;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  /// `completions` (the shard's) delivers the result; `ex` runs timers.
  /// The request and completion are taken by rvalue: each is moved once,
  /// into the exchange (a Request by value was moved three times per request).
  Exchange(asio::any_io_executor ex, CompletionQueue& completions, Request&& request,
           std::shared_ptr<const Url> url, Clock::time_point deadline, bool wait_for_ready,
           Completion&& completion);
  /// An exchange dropped before completing (a bug) still completes, with
  /// errc::client_shut_down, so its caller is never left waiting.
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const Request& request() const noexcept { return request_; }
  const Url& url() const noexcept { return *url_; }
  Clock::time_point deadline() const noexcept { return deadline_; }
  bool wait_for_ready() const noexcept { return wait_for_ready_; }
  bool done() const noexcept { return done_; }
  int attempts() const noexcept { return attempts_; }
  std::uint64_t id() const noexcept { return id_; }
  /// "GET https://host:port/path".
  std::string describe() const;

  /// Marks a new attempt on `carrier` (null: an attempt that never reached
  /// a connection, such as a failed dial).
  void begin_attempt(AttemptCarrier* carrier) {
    ++attempts_;
    carrier_ = carrier;
    response_started_ = false;
    held_body_.reset();  // a held answer that was retried is nobody's
    if (body_read_ && request_.body_rewind()) {
      request_.body_rewind()();  // a replayable source starts over
      body_read_ = false;
    }
  }
  /// The attempt just begun is not counted against max_attempts (a fast
  /// redial after a refused dial: retry::fast_redial_window).
  void uncharge_attempt() noexcept { ++uncharged_attempts_; }
  /// Attempts that count against max_attempts.
  int charged_attempts() const noexcept { return attempts_ - uncharged_attempts_; }
  /// Set while it waits out the redial backoff after a failed dial.
  void set_backing_off(bool on) noexcept { backing_off_ = on; }
  bool backing_off() const noexcept { return backing_off_; }
  /// The request's body source was read from: the body cannot be sent again.
  void mark_body_read() noexcept { body_read_ = true; }
  /// False once a body source was read from, or a body writer dropped its
  /// replay copy (the response started, or more than its limit was sent).
  bool body_replayable() const noexcept;
  /// Attempts the server refused unprocessed so far.
  int refusals() const noexcept { return refusals_; }
  void count_refusal() noexcept { ++refusals_; }
  /// After repeated refusals it waits in the queue until `t` (its backoff).
  void rest_until(Clock::time_point t) noexcept { rest_until_ = t; }
  Clock::time_point resting_until() const noexcept { return rest_until_; }
  bool resting(Clock::time_point now) const noexcept { return now < rest_until_; }
  /// Keeps the caller's cancellation attached until the exchange completes.
  void hold(Cancellation::Registration r) { cancel_registration_ = std::move(r); }
  void set_carrier(AttemptCarrier* carrier) noexcept { carrier_ = carrier; }
  /// The current attempt ended (its carrier handed it back): no timer of
  /// that attempt may act on the request any more, and until the next one
  /// begins the request is not on the wire (a deadline or cancel while it
  /// waits for a 401's new credential or a 429's Retry-After says so).
  void end_attempt() {
    carrier_ = nullptr;
    response_started_ = false;
    if (header_timer_) header_timer_->cancel();
    if (body_idle_timer_) body_idle_timer_->cancel();
  }
  AttemptCarrier* carrier() const noexcept { return carrier_; }

  /// Starts the per-attempt response-header timer; `on_expired` runs when
  /// it fires before mark_response_started() and before completion.
  void arm_header_timeout(std::chrono::milliseconds after, std::function<void(Exchange&)> on_expired);
  /// With Request::body_idle_timeout set, `on_idle` runs when a started
  /// response of this attempt then gets no body byte for that long.
  void watch_body_idle(std::function<void(Exchange&)> on_idle);
  /// The current attempt's final response header arrived with `status`
  /// (stops the header timer, starts the body idle timer). With a body
  /// sink, a 401, 429 or 503 body is held back from the sink: the pool may
  /// still retry that answer, and the sink must see one body only.
  void mark_response_started(int status) {
    if (response_started_) return;
    response_started_ = true;
    if (header_timer_) header_timer_->cancel();
    if (on_body_idle_) arm_body_idle();
    if (request_.body_sink() && (status == 401 || status == 429 || status == 503)) held_body_.emplace();
    writer_response_started();
  }
  /// Told each attempt's final response status and Content-Encoding once
  /// its header section is complete, before any body byte: the redirect
  /// and decoding layer above the pool (src/follow) learns there what the
  /// body sink's bytes will be. Set before the exchange is submitted.
  using HeadObserver = std::function<void(int status, std::string_view content_encoding)>;
  void observe_head(HeadObserver f) { head_observer_ = std::move(f); }
  bool head_observed() const noexcept { return static_cast<bool>(head_observer_); }
  /// Called by the transports (only when head_observed()), once per attempt.
  void note_response_head(int status, std::string_view content_encoding) {
    if (head_observer_) head_observer_(status, content_encoding);
  }
  /// A chunk of the response body, for a request with a body sink: to the
  /// sink, or held (see mark_response_started). A held body over
  /// max_held_body goes to the sink after all, and the answer is final.
  /// False when the sink threw: the attempt must end, failed with
  /// errc::callback_threw and caller_threw().
  [[nodiscard]] bool deliver_body(std::string_view chunk);
  /// The caller's sink has been handed bytes: the response is the caller's.
  bool body_reached_sink() const noexcept { return body_reached_sink_; }
  /// The answer is the caller's: a held body goes to the sink now. False
  /// when the sink threw (as deliver_body).
  [[nodiscard]] bool release_held_body();
  /// The request body source's next chunk into `chunk` (empty: the end).
  /// False when the source threw (as deliver_body).
  [[nodiscard]] bool pull_body_chunk(std::string& chunk);
  /// What the caller's sink or source threw, in words ("the request's body
  /// sink threw: disk full"), once one did; the sink is not called again.
  const std::optional<std::string>& caller_threw() const noexcept { return caller_threw_; }
  static constexpr std::size_t max_held_body = 64 * 1024;
  /// Bytes of the response body arrived (for body_idle_timeout).
  void note_body_progress() {
    if (on_body_idle_) last_body_byte_ = Clock::now();
  }

  /// Adds `c`'s header fields the caller did not set, replacing the ones a
  /// previous credential added; remembers `c` as what this request sent.
  void apply_credential(const Credential& c);
  /// The credential the request carries (none when the caller set every
  /// field itself, or the origin gets no credentials).
  const std::optional<Credential>& credential() const noexcept { return credential_; }
  /// Whether the credential was already fetched (a retry reuses it).
  bool credential_fetched() const noexcept { return credential_fetched_; }
  void mark_credential_fetched() noexcept { credential_fetched_ = true; }
  /// After a 401 the request is resent at most once with a new credential.
  bool reauthenticated() const noexcept { return reauthenticated_; }
  void mark_reauthenticated() noexcept { reauthenticated_ = true; }
  /// The current attempt's response header arrived: how far it got, for an
  /// error that ends it from outside (deadline, cancel). False between
  /// attempts.
  bool response_started() const noexcept { return response_started_; }

  /// Completes with a response or error. Completing twice is a bug in
  /// rebound: the second result is dropped, counted by the shard's
  /// CompletionQueue, and aborts checked builds. Callers that may race a
  /// deadline check done() first.
  bool complete(Result<Response>&& result);
  /// Completes an exchange that never reached its shard (the shard had
  /// stopped): the result goes through Asio's system executor. Any thread.
  void complete_off_shard(Result<Response> result);

 private:
  Request request_;
  std::shared_ptr<const Url> url_;  // shared with the caller thread's parse cache
  Clock::time_point deadline_;
  bool wait_for_ready_;
  Completion completion_;
  asio::any_io_executor executor_;
  CompletionQueue& completions_;
  std::optional<asio::steady_timer> header_timer_;  // only when a header timeout is set
  void arm_body_idle();
  void wait_body_idle(int attempt);
  void writer_response_started();
  void end_writer();
  std::function<void(Exchange&)> on_body_idle_;       // only with Request::body_idle_timeout
  HeadObserver head_observer_;                        // only under a redirect policy or decompression
  std::optional<asio::steady_timer> body_idle_timer_;
  Clock::time_point last_body_byte_{};
  std::optional<Credential> credential_;
  std::vector<std::string> credential_fields_added_;
  bool credential_fetched_ = false;
  bool reauthenticated_ = false;
  friend class DeadlineQueue;
  struct DeadlineLink {
    DeadlineQueue* queue = nullptr;
    Exchange* prev = nullptr;
    Exchange* next = nullptr;
  } deadline_link_;
  AttemptCarrier* carrier_ = nullptr;
  Cancellation::Registration cancel_registration_;
  int attempts_ = 0;
  int uncharged_attempts_ = 0;
  int refusals_ = 0;
  bool response_started_ = false;
  bool body_read_ = false;
  std::optional<std::string> held_body_;  // engaged while an answer may be retried
  std::optional<std::string> caller_threw_;
  bool call_sink(std::string_view chunk);
  bool body_reached_sink_ = false;
  Clock::time_point rest_until_{};
  bool done_ = false;
  bool backing_off_ = false;
  std::uint64_t id_;
};

}  // namespace rebound::inflight
