// The origin pool checked by a model: a driver that feeds one OriginPool,
// through the fakes, a random sequence of what its world can do (requests,
// dial results, answers, refusals, resets, GOAWAY, stream timeouts, PING
// results, credential answers inline/late/twice/never, clock jumps, reaps,
// cancels, shutdown), keeps its own record of every exchange, and after
// every step compares the pool with that record (DESIGN.md invariants 4-7):
//  - every live exchange is owned by exactly one place (the pool's queue,
//    its credential step, a connection), and none is lost by a reap;
//  - every exchange completes exactly once, and not after its deadline
//    plus a small bound; none fails with client_shut_down while the client
//    runs;
//  - the slots the pool counts equal the connections that can take a
//    request (ready, or busy and not suspect) plus the dials in flight;
//  - a non-idempotent request the server may have processed is never sent
//    again, and nothing is sent after shutdown;
//  - a connection that carried a request within idle_timeout is not reaped;
//  - with a healthy server for a few seconds, every queued request is served;
//  - after shutdown the pool is empty and every exchange has completed.
// The same driver runs from a seed (tests/pool/pool_model_test.cpp) and
// from a fuzzer's bytes (tests/fuzz/pool_fuzz.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace rebound::pool::model {

/// Where the driver's decisions come from.
class Choices {
 public:
  virtual ~Choices() = default;
  /// A number in [0, n), n > 0.
  virtual std::uint32_t below(std::uint32_t n) = 0;
  /// False once the source is spent (a fuzzer's input consumed).
  virtual bool more() const = 0;
};

/// Decisions from a seed, for `steps` steps.
class SeededChoices final : public Choices {
 public:
  SeededChoices(std::uint64_t seed, std::size_t steps) : random_(seed), left_(steps) {}
  std::uint32_t below(std::uint32_t n) override {
    if (left_ > 0) --left_;
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(random_);
  }
  bool more() const override { return left_ > 0; }

 private:
  std::mt19937_64 random_;
  std::size_t left_;
};

/// Decisions from bytes (one byte each, two when n > 256); zeros once spent.
class ByteChoices final : public Choices {
 public:
  ByteChoices(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint32_t below(std::uint32_t n) override {
    std::uint32_t v = next();
    if (n > 256) v = (v << 8) | next();
    return v % n;
  }
  bool more() const override { return pos_ < size_; }

 private:
  std::uint32_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// What the world can do to the pool; the report counts each.
enum class Step : std::uint8_t {
  submit,             ///< a request (GET, PUT, POST; some wait for readiness)
  dial_http1,         ///< a pending dial connects, ALPN http/1.1
  dial_http2,         ///< a pending dial connects, ALPN h2
  dial_fail,          ///< a pending dial fails (refused, timed out, TLS)
  respond,            ///< a running request gets its response (200, 401, 429/503 with Retry-After)
  refuse_stream,      ///< a running request is refused unprocessed
  lose_stream,        ///< a running request's stream dies after it was sent
  peer_close,         ///< the server closes a connection (every request on it was sent)
  goaway,             ///< the server sends GOAWAY: the connection drains
  stream_timeout,     ///< a running request's deadline passes: the h2 connection turns suspect
  ping_ack,           ///< a suspect connection hears from the server
  ping_timeout,       ///< a suspect connection's PING goes unanswered: it closes
  learn_limits,       ///< a new h2 connection gets the server's SETTINGS
  credential_answer,  ///< a held credential fetch answers
  credential_twice,   ///< a held credential fetch answers twice
  credential_fail,    ///< a held credential fetch fails
  credential_never,   ///< a held credential fetch is dropped unanswered
  cancel,             ///< the caller cancels a live request
  tick,               ///< time moves on a little (timers, deadlines)
  clock_jump,         ///< time moves on a lot
  reap,               ///< the shard's reaper looks (and drops the pool when it says empty)
  shutdown,           ///< the Client shuts down
  count_
};
inline constexpr std::size_t step_kinds = static_cast<std::size_t>(Step::count_);
const char* to_string(Step s) noexcept;

struct Report {
  std::array<std::uint64_t, step_kinds> steps{};
  std::uint64_t exchanges = 0;
  /// Empty when every check held; else the first violation, what led to
  /// it (the last steps) and the pool's state.
  std::string violation;
};

/// Runs one model: a configuration drawn from `choices`, then steps while
/// choices last (at most `max_steps`), a healthy spell, and shutdown.
Report run(Choices& choices, std::size_t max_steps);

}  // namespace rebound::pool::model
