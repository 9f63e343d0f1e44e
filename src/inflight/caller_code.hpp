// The boundary between rebound's engine and code the caller gave it (a body
// sink, a body source, a completion). Caller code runs inside Asio handlers
// and inside nghttp2's C callbacks; an exception must not cross either:
// through C frames it is undefined behaviour, and out of an I/O thread's
// run() it ends the process. Here it is caught and turned into words (for
// the request's error) or a count (for Counters::callbacks_threw).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace rebound::inflight {

/// Runs `f` (caller code); what it threw, in words, or nullopt when it
/// returned normally.
template <class F>
std::optional<std::string> what_caller_code_threw(F&& f) noexcept {
  try {
    f();
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  } catch (...) {
    return std::string("an exception not derived from std::exception");
  }
}

/// Completions that threw where rebound ran them. Shared: a completion may
/// run on Asio's system executor after the Client (and its shards) are gone.
using ThrowCount = std::shared_ptr<std::atomic<std::uint64_t>>;

/// Runs a completion on a thread rebound owns (or Asio's system executor):
/// nobody's run() is there to receive an exception, so it is counted in
/// `count` and goes no further.
template <class F>
void run_counting_throws(F&& f, const ThrowCount& count) noexcept {
  if (what_caller_code_threw(f)) count->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace rebound::inflight
