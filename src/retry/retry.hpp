// The single place that answers "may this failed attempt be retried, and
// when": DESIGN.md's retry table as ordered guard clauses, a retry budget,
// and backoff for repeated dial failures. Pure logic: time is a parameter.
#pragma once

#include <rebound/error.hpp>
#include <rebound/headers.hpp>
#include <rebound/request.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rebound::retry {

using Clock = std::chrono::steady_clock;

/// A failed attempt, as the transport saw it.
struct AttemptFailure {
  error_code code;
  progress reached = progress::not_sent;
};

/// What the caller's request allows.
struct RequestFacts {
  std::string_view method;
  bool has_idempotency_key = false;
  /// False once a streamed body (Request::body_source) was read from.
  bool body_replayable = true;
  RetryPolicy policy = RetryPolicy::automatic;
  int attempts_made = 0;
  int max_attempts = 4;
  /// Attempts of this request the server refused before the failing one.
  int refusals_before = 0;
};

enum class Action : std::uint8_t {
  retry_now,            ///< attempt again at once (on another connection)
  retry_after_backoff,  ///< attempt again after backoff_delay(backoff_step, ...)
  retry_after_delay,    ///< attempt again after `delay`, the server's Retry-After
  fail,                 ///< complete the request with the attempt's error
};

struct Verdict {
  Action action;
  /// Why, in a few words: shown in events and errors.
  std::string_view reason;
  /// For retry_after_backoff: the `failures` argument of backoff_delay().
  int backoff_step = 0;
  /// For retry_after_delay: how long the server asked to wait.
  std::chrono::milliseconds delay{0};
};

/// The longest rest between attempts the server refused unprocessed
/// (Options::backoff_max may lower it): a refusal spell is ridden out at
/// about one attempt a second until the deadline or the budget says stop.
inline constexpr std::chrono::milliseconds max_refusal_backoff{1000};

/// RFC 9110 section 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
bool is_idempotent_method(std::string_view method) noexcept;

/// Caps retries at a fraction of recent requests plus a small floor, so an
/// outage cannot multiply the load on a struggling server. A sliding window
/// of one-second buckets.
class Budget {
 public:
  Budget(double ratio, std::uint32_t min_per_second) : ratio_(ratio), min_per_second_(min_per_second) {}
  void record_request(Clock::time_point now);
  /// Takes one retry from the budget; false when spent.
  bool try_spend(Clock::time_point now);

 private:
  static constexpr int window_seconds = 10;
  struct Bucket { std::int64_t second = -1; std::uint32_t requests = 0; std::uint32_t retries = 0; };
  Bucket& bucket(Clock::time_point now);
  double ratio_;
  std::uint32_t min_per_second_;
  std::array<Bucket, window_seconds> buckets_{};
};

/// The retry decision for one failed attempt. A refusal is retried at once
/// the first time (another connection may take it) and after jittered
/// exponential backoff each time after that, so a server shedding load for
/// a moment is not hammered through every attempt in a millisecond (gRPC's
/// transparent retry does the same); refusals do not count against
/// max_attempts (the deadline and the budget bound them). Does not consult the budget;
/// the caller spends from it when the verdict is a retry. A code that
/// rebound::is_retryable() rejects is never retried, and one it accepts is
/// retried when the table allows it (tests pin that they agree).
Verdict decide(const AttemptFailure& failure, const RequestFacts& request);

/// Retry-After (RFC 9110 10.2.3) as a delay from `now`: delay-seconds, or
/// an HTTP-date (IMF-fixdate; a date in the past is 0). nullopt when the
/// value is neither. Capped at a day.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

/// What to do with a complete response: 429 and 503 with Retry-After are
/// retried after the server's delay for requests that may be repeated (the
/// row "sent" of the table: idempotent or keyed, a body that can be sent
/// again) and have attempts left; everything else is the caller's
/// response. The verdict's `delay` is the server's. The caller checks the
/// deadline and spends from the budget.
Verdict decide_answer(int status, std::optional<std::chrono::milliseconds> retry_after, const RequestFacts& request);

/// Nothing listening (ECONNREFUSED) is what a restarting server looks like,
/// and it listens again within moments: while a request waits, the pool
/// redials every 25-50 ms (jittered, so a fleet does not synchronise) for
/// the first two seconds of a streak of refused dials, before
/// backoff_delay() takes over. These redials are retries from the budget
/// but not attempts counted against max_attempts.
inline constexpr std::chrono::milliseconds fast_redial_window{2000};
/// The delay before a redial within fast_redial_window: 25-50 ms.
std::chrono::milliseconds fast_redial_delay(double random01);

/// Delay before redial number `failures` (1-based) after consecutive dial
/// failures: exponential from `base`, capped at `max`, with full jitter in
/// [delay/2, delay]. `random01` is a uniform draw in [0,1).
std::chrono::milliseconds backoff_delay(int failures, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, double random01);

}  // namespace rebound::retry
