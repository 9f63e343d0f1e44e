// One request across endpoints: acting on the retry table's verdicts. See
// endpoint_journey.hpp.
#include "endpoints/endpoint_journey.hpp"

#include "retry/retry.hpp"

#include <algorithm>

namespace rebound::endpoints {

Journey::Journey(const Request& request, Clock::time_point deadline, std::size_t endpoints, JourneyLimits limits)
    : method_(request.method()),
      has_idempotency_key_(request.headers().contains("idempotency-key")),
      policy_(request.retry_policy()),
      replayable_(!request.body_source() && !request.body_writer()),
      deadline_(deadline),
      limits_(limits),
      tried_(endpoints, false) {}

void Journey::sent(std::size_t index) {
  tried_.at(index) = true;
  ++attempts_;
  trail_.push_back(index);
}

void Journey::new_round() {
  std::fill(tried_.begin(), tried_.end(), false);
  ++rounds_;
}

bool Journey::untried_left() const {
  return std::any_of(tried_.begin(), tried_.end(), [](bool t) { return !t; });
}

retry::RequestFacts Journey::facts() const {
  retry::RequestFacts f;
  f.method = method_;
  f.has_idempotency_key = has_idempotency_key_;
  f.policy = policy_;
  f.attempts_made = charged_ + 1;
  f.max_attempts = limits_.max_attempts;
  return f;
}

Journey::Next Journey::rest(std::chrono::milliseconds delay, std::string reason, Clock::time_point now) {
  // A rest that would end past the deadline ends the request now.
  if (now + delay >= deadline_) return {What::complete, {}, reason + "; the deadline leaves no time for another attempt"};
  if (delay.count() <= 0) return {What::send_now, {}, std::move(reason)};
  return {What::send_after, delay, std::move(reason)};
}

Journey::Next Journey::after_failure(const Error& e, Clock::time_point now, double random01) {
  // Sent once, with its own policy, to one endpoint: the pool did what could be done.
  if (!replayable_) return {What::complete, {}, "a streamed body is sent to one endpoint only"};
  if (now >= deadline_) return {What::complete, {}, "deadline passed"};
  const bool unprocessed = e.reached() == progress::not_sent || e.reached() == progress::refused;
  // Never sent, or refused unprocessed: another endpoint at once, free -
  // the endpoint failed, not the request.
  if (unprocessed && policy_ != RetryPolicy::never && is_retryable(e.code()) && untried_left())
    return {What::send_now, {}, std::string(e.reached() == progress::refused ? "refused unprocessed" : "never sent") +
                                    "; moved to another endpoint at once",
            true};
  retry::RequestFacts request = facts();
  request.refusals_before = refusals_;
  const retry::Verdict v = retry::decide({e.code(), e.reached()}, request);
  if (v.action == retry::Action::fail || v.action == retry::Action::retry_after_delay)
    return {What::complete, {}, std::string(v.reason)};
  // As the pool does for refused dials: attempts nothing processed are
  // bounded by the deadline and the budget, with growing rests, not by a count.
  if (e.reached() == progress::refused) ++refusals_;
  else if (e.reached() != progress::not_sent) ++charged_;
  std::chrono::milliseconds delay{0};
  if (v.action == retry::Action::retry_after_backoff)
    delay = retry::backoff_delay(std::max(1, v.backoff_step), limits_.backoff_base, limits_.backoff_max, random01);
  std::string reason(v.reason);
  if (!untried_left()) {
    // Every endpoint failed it this round: rest before the next.
    new_round();
    delay = std::max(delay, retry::backoff_delay(rounds_, limits_.backoff_base, limits_.backoff_max, random01));
    reason += "; every endpoint tried, next round after backoff";
  }
  return rest(delay, std::move(reason), now);
}

Journey::Next Journey::after_answer(int status, std::optional<std::chrono::milliseconds> retry_after,
                                    Clock::time_point now) {
  if (!replayable_) return {What::complete, {}, "an answer"};
  const retry::Verdict v = retry::decide_answer(status, retry_after, facts());
  if (v.action != retry::Action::retry_after_delay) return {What::complete, {}, std::string(v.reason)};
  ++charged_;
  if (!untried_left()) new_round();
  Next next = rest(v.delay, std::string(v.reason), now);
  // The server's own delay, even when it is 0: no endpoint is hammered.
  return next;
}

}  // namespace rebound::endpoints
