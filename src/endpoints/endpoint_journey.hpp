// One request's way across the endpoints, as decisions with time passed in:
// after a failed attempt or a busy answer, whether it moves on at once (an
// attempt never sent, or refused unprocessed, to an endpoint not yet
// tried), after a rest (the retry table's verdicts, a new round once every
// endpoint was tried), or completes. The retry table itself is
// retry::decide / decide_answer; this only acts on its verdicts.
#pragma once

#include <rebound/error.hpp>
#include <rebound/request.hpp>

#include "retry/retry.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rebound::endpoints {

struct JourneyLimits {
  int max_attempts = 4;
  std::chrono::milliseconds backoff_base{50};
  std::chrono::milliseconds backoff_max{2000};
};

class Journey {
 public:
  using Clock = std::chrono::steady_clock;

  Journey(const Request& request, Clock::time_point deadline, std::size_t endpoints, JourneyLimits limits);

  enum class What { send_now, send_after, complete };
  struct Next {
    What what = What::complete;
    std::chrono::milliseconds delay{0};  ///< send_after
    std::string reason;                  ///< for events and the final error
    bool free = false;                   ///< a move to an endpoint not yet tried (no budget, no attempt)
  };

  /// Marks `index` as tried in this round and counts the attempt.
  void sent(std::size_t index);
  /// After an attempt failed with `e`.
  Next after_failure(const Error& e, Clock::time_point now, double random01);
  /// After a 429/503 with Retry-After (`retry_after`); complete otherwise.
  Next after_answer(int status, std::optional<std::chrono::milliseconds> retry_after, Clock::time_point now);

  /// A new round: every endpoint may be tried again.
  void new_round();
  const std::vector<bool>& tried() const noexcept { return tried_; }
  /// Whether the group may send it more than once (an in-memory body).
  bool replayable() const noexcept { return replayable_; }
  int attempts() const noexcept { return attempts_; }
  Clock::time_point deadline() const noexcept { return deadline_; }
  /// The endpoints tried, in order (for errors).
  const std::vector<std::size_t>& trail() const noexcept { return trail_; }

 private:
  // The request as the retry table sees it now (refusals_before left 0).
  retry::RequestFacts facts() const;
  bool untried_left() const;
  Next rest(std::chrono::milliseconds delay, std::string reason, Clock::time_point now);

  std::string method_;
  bool has_idempotency_key_ = false;
  RetryPolicy policy_ = RetryPolicy::automatic;
  bool replayable_ = true;
  Clock::time_point deadline_;
  JourneyLimits limits_;
  std::vector<bool> tried_;
  int attempts_ = 0;  // every attempt sent
  int charged_ = 0;   // attempts the retry table counts
  int refusals_ = 0;
  int rounds_ = 0;
  std::vector<std::size_t> trail_;
};

}  // namespace rebound::endpoints
