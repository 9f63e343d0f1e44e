// Retry verdicts (DESIGN.md's table), the retry budget and dial backoff.
#include "retry/retry.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>

namespace rebound::retry {

bool is_idempotent_method(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

namespace {
bool may_resend_after_ambiguous_failure(const RequestFacts& r) {
  switch (r.policy) {
    case RetryPolicy::always: return true;
    case RetryPolicy::never: return false;
    case RetryPolicy::idempotent_only: return is_idempotent_method(r.method);
    case RetryPolicy::automatic: return is_idempotent_method(r.method) || r.has_idempotency_key;
  }
  return false;
}
}  // namespace

Verdict decide(const AttemptFailure& f, const RequestFacts& r) {
  // The caller forbade retries outright.
  if (r.policy == RetryPolicy::never) return {Action::fail, "retries disabled for this request"};
  // A streamed body that was read from is gone: nothing can be resent.
  if (!r.body_replayable) return {Action::fail, "the streamed body was read and cannot be sent again"};
  // Cancellation and the deadline are the caller's decisions, not failures to retry.
  if (f.code == errc::cancelled || f.code == errc::deadline_exceeded ||
      f.code == errc::client_shut_down)
    return {Action::fail, "request ended by its caller or deadline"};
  // Only transient failures are worth another attempt; a wrong request, an
  // oversized response, a bad certificate or a protocol violation fails
  // the same way every time. is_retryable() is the one list of both.
  if (!is_retryable(f.code)) return {Action::fail, "a retry would fail the same way"};
  // The server proved it did not process it: safe for any method, and not
  // counted against max_attempts - nothing ran, so a spell of refusals is
  // bounded by the request's deadline and the retry budget (the caller
  // checks both), with growing backoff, not by a count.
  if (f.reached == progress::refused) {
    if (r.refusals_before == 0) return {Action::retry_now, "refused unprocessed by the server"};
    return {Action::retry_after_backoff, "refused again unprocessed; retrying after backoff", r.refusals_before};
  }
  // Out of attempts, whatever else happened.
  if (r.attempts_made >= r.max_attempts) return {Action::fail, "max attempts reached"};
  switch (f.reached) {
    // Never left the client: safe for any method.
    case progress::not_sent: return {Action::retry_now, "not sent; retrying on a new connection"};
    case progress::refused: break;  // decided above
    // Possibly processed: only requests that are safe to repeat.
    case progress::sent:
      if (may_resend_after_ambiguous_failure(r))
        return {Action::retry_now, "lost after sending; request is idempotent"};
      return {Action::fail, "lost after sending; not idempotent, so not resent"};
    // A response had started: never retried, the caller sees the truncation.
    case progress::response_started: return {Action::fail, "response had started"};
  }
  return {Action::fail, "unknown progress"};
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  constexpr std::chrono::milliseconds cap = std::chrono::hours(24);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 6) return cap;  // a million seconds and more: past the cap anyway
    long long seconds = 0;
    for (char c : value) seconds = seconds * 10 + (c - '0');
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), cap);
  }
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
  const std::string text(value);
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  // The whole value: strptime stops at a NUL inside it, which would leave
  // the bytes after it unread.
  if (end != text.c_str() + text.size()) return std::nullopt;
  // In seconds: a date past 2262 would overflow the system clock's
  // nanoseconds (found by retry_after_fuzz).
  const std::int64_t at = ::timegm(&tm);
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (at <= now_s) return std::chrono::milliseconds(0);
  if (at - now_s >= std::chrono::duration_cast<std::chrono::seconds>(cap).count()) return cap;
  const auto left = std::chrono::seconds(at - now_s) - (now.time_since_epoch() - std::chrono::seconds(now_s));
  return std::min<std::chrono::milliseconds>(std::chrono::duration_cast<std::chrono::milliseconds>(left), cap);
}

Verdict decide_answer(int status, std::optional<std::chrono::milliseconds> retry_after, const RequestFacts& r) {
  if (status != 429 && status != 503) return {Action::fail, "an answer, returned as it is"};
  if (!retry_after) return {Action::fail, "busy without Retry-After: returned as it is"};
  if (r.policy == RetryPolicy::never) return {Action::fail, "retries disabled for this request"};
  if (!r.body_replayable) return {Action::fail, "the streamed body was read and cannot be sent again"};
  if (r.attempts_made >= r.max_attempts) return {Action::fail, "max attempts reached"};
  // The server may have done part of the work before it answered busy.
  if (!may_resend_after_ambiguous_failure(r)) return {Action::fail, "busy; not idempotent, so not resent"};
  Verdict v{Action::retry_after_delay, "the server asked to retry after a delay (Retry-After)"};
  v.delay = *retry_after;
  return v;
}

Budget::Bucket& Budget::bucket(Clock::time_point now) {
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Bucket& b = buckets_[static_cast<std::size_t>(second % window_seconds)];
  if (b.second != second) b = Bucket{second, 0, 0};
  return b;
}

void Budget::record_request(Clock::time_point now) { ++bucket(now).requests; }

bool Budget::try_spend(Clock::time_point now) {
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  bucket(now);  // roll the current bucket first
  std::uint64_t requests = 0, retries = 0;
  for (const Bucket& b : buckets_) {
    if (b.second > second - window_seconds) {
      requests += b.requests;
      retries += b.retries;
    }
  }
  const double allowed = ratio_ * static_cast<double>(requests) +
                         static_cast<double>(min_per_second_) * window_seconds;
  if (static_cast<double>(retries) + 1 > allowed) return false;
  ++bucket(now).retries;
  return true;
}

std::chrono::milliseconds fast_redial_delay(double random01) {
  constexpr double low = 25, high = 50;
  return std::chrono::milliseconds(static_cast<std::int64_t>(low + (high - low) * std::clamp(random01, 0.0, 1.0)));
}

std::chrono::milliseconds backoff_delay(int failures, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, double random01) {
  if (failures <= 0) return std::chrono::milliseconds(0);
  const double exp = std::ldexp(static_cast<double>(base.count()), std::min(failures - 1, 30));
  const double capped = std::min(exp, static_cast<double>(max.count()));
  const double jittered = capped * (0.5 + 0.5 * std::clamp(random01, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(jittered));
}

}  // namespace rebound::retry
