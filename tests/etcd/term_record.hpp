// A shared record of leadership terms for electors in one process, written
// from their ElectionEvents: a term starts at `acquired` and ends at the
// first of the event that ended it (lost, released, stopped) and the bound
// of its last acquisition or renewal (valid_until), since is_leader() is
// false from that bound on whether or not the elector has noticed. Two
// terms of different electors must never overlap: that is "never two
// leaders", checked on the whole history instead of on samples.
//
// A term's start is the acquired event's time, taken just before
// is_leader() turns true, so a term recorded here is never shorter than
// the leadership it stands for at its start; at its end the event is taken
// microseconds before is_leader() turns false. Any takeover waits out the
// safety margin (a second or more here), so those microseconds cannot hide
// an overlap.
//
// Thread safety: hooks are called on the electors' callback threads; every
// member may be called from any thread.
#pragma once

#include <rebound/election/leader_elector.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace rebound::testing {

class TermRecord {
 public:
  using Clock = std::chrono::steady_clock;

  struct Term {
    std::string identity;
    Clock::time_point start;
    Clock::time_point end;   ///< for an open term: min(now, bound)
    Clock::time_point bound; ///< valid_until of its last acquisition or renewal
    int renewals = 0;
    bool open = false;       ///< no event has ended it yet
  };

  /// An on_event hook for one elector's config; calls `next` too.
  std::function<void(const rebound::lease::ElectionEvent&)> hook(
      std::function<void(const rebound::lease::ElectionEvent&)> next = {});

  std::vector<Term> terms() const;
  std::vector<Term> terms_of(const std::string& identity) const;
  /// Renewals by `identity` after `t` (events' own times).
  int renewals_since(const std::string& identity, Clock::time_point t) const;
  /// "" when no two terms of different electors overlap, else which did.
  std::string overlaps() const;
  /// Every term, one per line, times in ms relative to the first start.
  std::string describe() const;

 private:
  void add(const rebound::lease::ElectionEvent& e);

  mutable std::mutex mutex_;
  std::vector<Term> terms_;
  std::vector<std::pair<std::string, Clock::time_point>> renewals_;
};

}  // namespace rebound::testing
