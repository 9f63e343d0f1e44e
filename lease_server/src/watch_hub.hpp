// Lease watches, as kube-apiserver's watch cache serves them: a bounded
// window of the most recent committed changes (ADDED, MODIFIED, DELETED, in
// resourceVersion order) and the open watch streams.
//
// A watch from resourceVersion R gets every change after R that its filter
// matches, then each new one as it commits; R empty or "0" starts with a
// synthetic ADDED per matching lease of the committed state. An R older than
// the window (below floor(): changes after it were dropped, or happened
// before this process loaded the store) gets one ERROR event carrying a 410
// Expired Status and the stream ends; an R above anything committed gets 504
// (kube-apiserver's "Too large resource version"). BOOKMARK events carry the
// newest version the watcher has seen everything up to; timeoutSeconds ends
// the stream cleanly. Nothing survives a restart: a new hub starts with an
// empty window whose floor is the store's revision, so a client resumes from
// its last version when nothing it missed is gone, and re-lists otherwise.
//
// The send log (WatchOptions::log_path), one line per write(2):
//   commit <TYPE> <namespace>/<name> <resourceVersion>       a change committed
//   <watch-id> <TYPE> <namespace>/<name> <resourceVersion>   an event queued on that watch's stream
// TYPE: ADDED MODIFIED DELETED; a watch also logs BOOKMARK and ERROR with
// "-/-" for the object (ERROR's version is the one the client asked for).
// watch-id: "w<pid>-<n>". An event's line is written when its bytes are
// handed to the connection (queued after the response headers).
//
// Thread safety: all members, from any thread. publish() must be called in
// commit order (LeaseTable calls it under its write lock). One thread of the
// hub's own sends bookmarks, ends streams at their timeout and forgets
// streams whose client went away.
#pragma once

#include <rebound/server/append_log.hpp>
#include "lease_state.hpp"
#include "list_query.hpp"

#include <rebound/server/server.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace rebound::lease::detail {

/// One committed change of one lease.
struct CommitEvent {
  enum class Type { added, modified, deleted };
  Type type = Type::added;
  std::string ns;
  std::string name;
  std::uint64_t revision = 0;
  boost::json::object object;  ///< the lease after the change (deleted: its last state, at `revision`)
};

struct WatchOptions {
  std::size_t window = 1000;                        ///< changes kept for watches that resume
  std::chrono::milliseconds bookmark_interval{5000};
  std::chrono::seconds default_timeout{1800};       ///< when the request has no timeoutSeconds
  std::string log_path;                             ///< the send log; empty: none
};

class WatchHub {
 public:
  using Snapshot = std::shared_ptr<const StoreState>;

  /// `start_revision`: the store's revision when it was loaded.
  WatchHub(WatchOptions options, std::uint64_t start_revision);
  ~WatchHub();  ///< ends every open watch cleanly
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  /// A change committed: keep it in the window and send it to the watches
  /// it matches. Call in commit order.
  void publish(const CommitEvent& event);
  /// Answers a watch request. `snapshot` reads the committed state (for the
  /// initial ADDED events and the current version).
  server::ServerResponse watch(const ListQuery& query, const std::function<Snapshot()>& snapshot);
  /// Changes after this version are all in the window.
  std::uint64_t floor() const;
  /// Open watch streams.
  std::size_t watchers() const;

 private:
  struct Watcher;
  struct Wakeup;  // shared with the streams' end callbacks, which may outlive the hub

  void run();
  void send_bookmark(Watcher& w);

  const WatchOptions options_;
  const rebound::server::AppendLog log_;
  mutable std::mutex mutex_;
  std::shared_ptr<Wakeup> wakeup_;  // the hub thread waits on its condition variable, with mutex_
  std::deque<CommitEvent> window_;  // oldest first
  std::uint64_t floor_ = 0;         // the newest version no longer (or never) in window_
  std::uint64_t published_ = 0;     // the newest version published
  std::list<std::unique_ptr<Watcher>> watchers_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace rebound::lease::detail
