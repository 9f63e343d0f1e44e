// Exchange: deadline and exactly-once completion.
#include "inflight/exchange.hpp"

#include "inflight/body_writer_state.hpp"
#include "inflight/caller_code.hpp"
#include "inflight/completion_queue.hpp"
#include "inflight/deadline_queue.hpp"
#include "inflight/invariant.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>

#include <atomic>

namespace rebound::inflight {
namespace {
std::atomic<std::uint64_t> next_exchange_id{1};
}

Exchange::Exchange(asio::any_io_executor ex, CompletionQueue& completions, Request&& request,
                   std::shared_ptr<const Url> url, Clock::time_point deadline,
                   bool wait_for_ready, Completion&& completion)
    : request_(std::move(request)), url_(std::move(url)), deadline_(deadline),
      wait_for_ready_(wait_for_ready), completion_(std::move(completion)),
      executor_(std::move(ex)), completions_(completions), id_(next_exchange_id.fetch_add(1, std::memory_order_relaxed)) {}

Exchange::~Exchange() {
  // Nothing owned it any more: a request in limbo (DESIGN.md invariant 6).
  // Its caller still gets an answer, and the count shows the bug to
  // Counters::completions_dropped (which the tests assert stays 0).
  if (!done_) {
    completions_.count_dropped();
    complete(Error(errc::client_shut_down, describe() + ": dropped before completing"));
  }
  // Still linked if it was added after completing (a cancel that ran before
  // Shard::start): complete() cannot have unlinked it.
  if (deadline_link_.queue) deadline_link_.queue->remove(*this);
}

std::string Exchange::describe() const { return request_.method() + " " + url_->str(); }

void Exchange::arm_header_timeout(std::chrono::milliseconds after, std::function<void(Exchange&)> on_expired) {
  if (!header_timer_) header_timer_.emplace(executor_);
  header_timer_->expires_after(after);
  const int attempt = attempts_;
  header_timer_->async_wait([self = shared_from_this(), attempt, on_expired = std::move(on_expired)](
                               boost::system::error_code ec) {
    // A cancel comes too late when the expiry was already queued behind the
    // response's header: the attempt has started its response, leave it be.
    // Only for the attempt it was armed for, while that attempt still runs
    // on a connection: once it failed and the request waits in the queue
    // (resting after a refusal, or for a connection), an expiry would queue
    // it a second time.
    if (!ec && !self->done_ && self->attempts_ == attempt && !self->response_started_ && self->carrier_)
      on_expired(*self);
  });
}

bool Exchange::deliver_body(std::string_view chunk) {
  if (caller_threw_) return false;
  if (held_body_) {
    if (held_body_->size() + chunk.size() <= max_held_body) {
      held_body_->append(chunk);
      return true;
    }
    // Too large to hold: it is the caller's answer after all.
    if (!release_held_body()) return false;
  }
  if (chunk.empty()) return true;
  return call_sink(chunk);
}

bool Exchange::release_held_body() {
  if (caller_threw_) return false;
  if (!held_body_) return true;
  std::string body = std::move(*held_body_);
  held_body_.reset();
  if (body.empty()) return true;
  return call_sink(body);
}

bool Exchange::call_sink(std::string_view chunk) {
  body_reached_sink_ = true;
  if (auto what = what_caller_code_threw([&] { request_.body_sink()(chunk); })) {
    caller_threw_ = "the request's body sink threw: " + *what;
    return false;
  }
  return true;
}

bool Exchange::pull_body_chunk(std::string& chunk) {
  if (caller_threw_) return false;
  if (auto what = what_caller_code_threw([&] { chunk = request_.body_source()(); })) {
    caller_threw_ = "the request's body source threw: " + *what;
    return false;
  }
  return true;
}

bool Exchange::body_replayable() const noexcept {
  if (body_read_ && !request_.body_rewind()) return false;
  const auto& writer = request_.body_writer();
  return !writer || writer->state()->replayable();
}

void Exchange::writer_response_started() {
  // Nothing is resent once the server answers: the replay copy is dead weight.
  if (const auto& writer = request_.body_writer()) writer->state()->response_started();
}

void Exchange::end_writer() {
  // The caller's writes end with the request, whichever way it ended.
  if (const auto& writer = request_.body_writer()) writer->state()->end();
}

void Exchange::watch_body_idle(std::function<void(Exchange&)> on_idle) {
  if (request_.body_idle_timeout()) on_body_idle_ = std::move(on_idle);
}

void Exchange::arm_body_idle() {
  if (!body_idle_timer_) body_idle_timer_.emplace(executor_);
  last_body_byte_ = Clock::now();
  wait_body_idle(attempts_);
}

void Exchange::wait_body_idle(int attempt) {
  // Armed from the last byte's time, and re-armed only when it fires: a
  // busy stream costs one clock read per chunk, not a timer operation.
  body_idle_timer_->expires_at(last_body_byte_ + *request_.body_idle_timeout());
  body_idle_timer_->async_wait([self = shared_from_this(), attempt](boost::system::error_code ec) {
    if (ec || self->done_ || self->attempts_ != attempt || !self->carrier_) return;
    if (Clock::now() < self->last_body_byte_ + *self->request_.body_idle_timeout()) self->wait_body_idle(attempt);
    else self->on_body_idle_(*self);
  });
}

void Exchange::apply_credential(const Credential& c) {
  Headers& h = request_.headers();
  for (const auto& name : credential_fields_added_) h.remove(name);
  credential_fields_added_.clear();
  // The caller's own fields win; a name the credential repeats
  // (Impersonate-Group) is added as often as it comes.
  std::vector<std::string> callers;
  for (const auto& field : c.headers)
    if (h.contains(field.first)) callers.push_back(field.first);
  for (const auto& [name, value] : c.headers) {
    if (std::find(callers.begin(), callers.end(), name) != callers.end()) continue;
    h.add(name, value);
    if (std::find(credential_fields_added_.begin(), credential_fields_added_.end(), name) ==
        credential_fields_added_.end())
      credential_fields_added_.push_back(name);
  }
  if (credential_fields_added_.empty()) credential_.reset();
  else credential_ = c;
}

void Exchange::complete_off_shard(Result<Response> result) {
  if (done_) return;
  done_ = true;
  cancel_registration_.reset();
  end_writer();
  post_completion(asio::system_executor(), std::move(completion_), std::move(result), completions_.throw_count());
}

void run_completion(Completion& completion, Result<Response>&& result, const ThrowCount& threw) {
  run_counting_throws([&] { std::visit([&](auto& f) { std::move(f)(std::move(result)); }, completion); }, threw);
}

void post_completion(const asio::any_io_executor& executor, Completion completion, Result<Response> result,
                     ThrowCount threw) {
  asio::post(executor, [completion = std::move(completion), result = std::move(result),
                        threw = std::move(threw)]() mutable { run_completion(completion, std::move(result), threw); });
}

bool Exchange::complete(Result<Response>&& result) {
  if (done_) {
    completions_.count_dropped();
    REBOUND_INVARIANT_FAILED(describe() + " completed twice; dropped: " +
                             (result ? std::to_string(result->status()) : result.error().message()));
    return false;
  }
  done_ = true;
  carrier_ = nullptr;
  // No cancel() can reach this exchange any more (it waits for a running one).
  cancel_registration_.reset();
  if (deadline_link_.queue) deadline_link_.queue->remove(*this);
  if (header_timer_) header_timer_->cancel();
  if (body_idle_timer_) body_idle_timer_->cancel();
  end_writer();
  completions_.push(std::move(completion_), std::move(result));
  return true;
}

}  // namespace rebound::inflight
