// EtcdKeyWatch: an etcd Watch on the election's key, open while the elector
// waits between attempts, so that a change to the key - the holder's
// release, its lease expiring, a new holder, someone deleting the key
// behind the leader - is seen when it happens instead of at the next
// attempt. A candidate then tries at once; a leader whose key changed
// behind it stops leading at once (elector_etcd.cpp says why).
//
// The watch starts at the revision after the elector's last read of the
// key, so a change made between that read and the watch is not missed.
// It reports the first change only, then ends its stream: the elector
// reads the key again before it decides anything. etcd cancelling the
// watch (the revision was compacted) counts as a change: re-read.
// A watch that fails (the member is down, a partition) reports nothing:
// the elector's timer still ends the wait, as it did without a watch.
//
// Thread safety: made and destroyed on the elector's run thread (the
// destructor cancels the stream and waits for its end, so it must not run
// on a rebound I/O thread); changed() and what() may be read from any
// thread; `on_change` runs once, on a rebound I/O thread.
#pragma once

#include <rebound/grpc/channel.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace rebound::lease::detail {

class EtcdKeyWatch {
 public:
  /// Watches `key` from `from_revision` on `channel`'s member for at most
  /// `timeout`; `on_change` runs once when a change is seen.
  EtcdKeyWatch(grpc::Channel channel, const std::string& key, std::int64_t from_revision,
               std::chrono::milliseconds timeout, std::function<void()> on_change);
  ~EtcdKeyWatch();
  EtcdKeyWatch(const EtcdKeyWatch&) = delete;
  EtcdKeyWatch& operator=(const EtcdKeyWatch&) = delete;

  /// True once a change to the key was seen.
  bool changed() const;
  /// What changed, for events: "deleted", "written by <value>" or
  /// "the watch was cancelled by etcd (...)"; empty before a change.
  std::string what() const;

  struct Shared;  ///< shared with the stream's callbacks

 private:
  std::shared_ptr<Shared> shared_;
  std::optional<grpc::BidiCall> call_;
};

}  // namespace rebound::lease::detail
