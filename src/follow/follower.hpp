// The layer above the pool that turns one caller request into hops:
// redirects followed under a RedirectPolicy, and response bodies decoded
// (gzip, br, zstd) while they stream. The pool, h1 and h2 see each hop as
// an ordinary request; the follower sees its answer's head (status,
// Content-Encoding) through the exchange's head observer, its body through
// a body sink of its own, and its result through a completion of its own,
// and only then answers the caller. Requests under neither feature never
// meet it.
//
// Deadline: every hop runs until the first request's deadline. Cancel:
// the caller's slot or Cancellation cancels whichever hop runs.
// Thread safety: a hop's callbacks run on its shard's thread; hops to
// other origins run on other shards, one after another (each hop starts
// from the previous one's completion). The cancel entry is locked.
#pragma once

#include "inflight/exchange.hpp"

#include <rebound/events.hpp>
#include <rebound/options.hpp>
#include <rebound/request.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <functional>

namespace rebound::follow {

using Clock = std::chrono::steady_clock;

/// What starting one hop gives back: what cancels it (empty when the
/// caller can cancel nothing), and what emits an event on its shard.
struct Hop {
  std::function<void()> cancel;
  std::function<void(const Event&)> emit;
};

/// Starts one hop on the engine: validates `request`, puts `observer` on
/// its exchange and runs it until `deadline`, completing `done` once.
using LaunchHop = std::function<Hop(Request&& request, inflight::Completion&& done, Clock::time_point deadline,
                                    inflight::Exchange::HeadObserver observer, bool cancellable)>;

/// True when `request` under `options` needs the follower (a redirect
/// policy that is on, or decompression).
bool needs_follower(const Request& request, const Options& options) noexcept;

/// Runs `request` through the follower: `completion` gets the final
/// response (its url() and redirects() set) or the error that ended it.
void start(Request&& request, inflight::Completion&& completion, boost::asio::cancellation_slot slot,
           Clock::time_point deadline, const Options& options, LaunchHop launch);

}  // namespace rebound::follow
