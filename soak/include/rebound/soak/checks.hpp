// The soak's invariants as pure functions: given what a request was, what
// its body source and sink saw and what the client returned (or what a
// retry event or a server's request log says), name the invariant broken,
// if any. No clocks, no I/O: the monitor feeds them.
#pragma once

#include <rebound/soak/ledger.hpp>
#include <rebound/soak/workload.hpp>

#include <rebound/client.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace rebound::soak {

/// A broken invariant: its stable name (as in --json) and what was seen.
struct Finding {
  std::string invariant;
  std::string detail;
};

/// The invariants' names, for the report's counts.
inline constexpr const char* invariant_names[] = {
    "completed_once",             // a completion per request, never two (and completions_dropped 0)
    "completed_before_deadline",  // by its deadline + grace
    "success_is_whole",           // 200, protocol as configured, body exactly what the route produces
    "error_kind_expected",        // only errors the injected faults can cause
    "error_matches_progress",     // code and progress agree; a deadline error is not early
    "error_reports_response_started",  // body bytes arrived: the error must say the response started
    "attempts_within_limit",      // never more than Options::max_attempts
    "one_attempt_at_a_time",      // a request's attempts never overlap
    "no_retry_after_response_started",
    "no_resend_after_sent",       // POST without key / streamed body: never another attempt once sent
    "ran_at_most_once",           // server logs: non-idempotent requests ran at most once
    "runs_within_attempts",       // server logs: never more runs than attempts
    "success_was_run",            // server logs: a success ran at least once
    "unsent_never_ran",           // server logs: "not sent"/"refused" at-most-once requests never ran
    "recovers_after_faults",      // every client reaches every origin once faults end
    "completions_dropped_zero",
    "dials_back_off",             // repeated dial failures back off: no redial storm
    "fds_return",
    "rss_returns",
    "heap_returns",
    "no_spin",
};

struct CompletionFacts {
  const Spec& spec;
  const Observed& seen;
  ClientMode mode;
  std::chrono::milliseconds elapsed;   ///< from just before send to the callback
  std::chrono::milliseconds timeout;   ///< the request's own, or the client's default
  std::chrono::milliseconds grace;
  int max_attempts;
};

/// Checks one completion.
std::optional<Finding> check_completion(const CompletionFacts& facts, const Result<Response>& result);

/// Checks a retry the client announced for a request of `kind` after an
/// attempt that got as far as `failed_at`.
std::optional<Finding> check_retry(Kind kind, progress failed_at);

/// Checks a client's failed dials over the last `window` against the
/// requests it started in it: repeated failures must back off, so each
/// request costs a few dials (max_attempts, and HTTP/1.1's parallel dials),
/// however long the outage. A closed loop of requests that fail fast may
/// dial hundreds of times a second - that is the load, not a storm.
std::optional<Finding> check_dial_rate(std::uint64_t failures, std::uint64_t started, std::chrono::milliseconds window);

/// Checks a request's server-side runs against its record. `final`: every
/// server has stopped, so no run can still come (a request held in a
/// blackholed proxy can reach its server after the client gave up).
std::optional<Finding> check_runs(const Entry& e, bool final);

}  // namespace rebound::soak
