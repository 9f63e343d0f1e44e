// Watcher: list-then-watch of one Kubernetes collection that survives
// anything the connection or the server does. It lists, then watches from
// the list's resourceVersion; after any failure - a server restart, a
// GOAWAY, a dead connection found by a health check, a stream gone quiet
// for idle_timeout, the server's own timeoutSeconds - it resumes from the
// last resourceVersion it delivered, asking for bookmarks so that version
// keeps moving while nothing changes. A 410 Gone (the version left the
// server's window) makes it list again and hand the caller the whole list;
// so does, after a backoff, a "too large resource version" (504 Timeout with
// cause ResourceVersionTooLarge: a version the server has not reached, from
// a lagging API server or an etcd restored from a backup), as answer or as
// ERROR event. A list asks for no version: it is a consistent read.
// Failed attempts back off exponentially with full jitter (client-go's 800 ms
// doubling to 30 s), and a success resets the backoff.
//
// Slow callbacks: the stream is read on the client's I/O thread and queued
// for the callbacks, at most max_queued_bytes of it. Past that the watcher
// cuts the stream rather than pausing it: the client's body sink has no way
// to hold back one stream (blocking it would block the I/O thread and every
// request on it), and a paused watch only moves the backlog into the server,
// which ends slow watchers anyway. Cutting costs little: every line queued
// before the cut is delivered, and the watch resumes from the last of them,
// so nothing is lost or repeated and no re-list is needed (one follows only
// if that version has left the server's window meanwhile: a 410, as any
// resume).
//
// Exactly once, by resourceVersion: an event whose version is not newer
// than the last one delivered (or than the last list's) is dropped and
// counted, never delivered; none is skipped across a resume because the
// watch restarts from the last delivered version. (A re-list after 410
// replaces what events would have told: on_list gets the current state.)
// Versions are compared as numbers when both are decimal (as kube-apiserver
// and rebound serve write them); opaque versions are never called duplicate.
// One exception: a watch started at "0" first gets an ADDED event for each
// existing object in key order, not version order; those are all delivered
// (resource_version() becomes the newest of them), and if that stream ends
// before an event of another kind shows they are over, the watcher lists
// rather than resume (an object not sent yet may be older than the newest).
//
// Errors: the constructor throws std::invalid_argument for an unusable
// collection_url. Failures while running are reported through on_status
// and retried for ever; run() returns only after stop(). An error answer to
// a watch or list is reported with its HTTP status and its Status object's
// reason and message ("watch failed: HTTP 403 Forbidden: ...").
// Thread safety: every callback runs on the run() thread, one at a time, in
// stream order. stop(), resource_version() and stats() may be called from
// any thread (stop() also from a callback).
#pragma once

#include <rebound/client.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rebound::kube {

struct WatchEvent {
  enum class Type : std::uint8_t { added, modified, deleted, bookmark };
  Type type = Type::added;
  boost::json::object object;    ///< the object (for a bookmark: only its metadata.resourceVersion)
  std::string resource_version;  ///< object.metadata.resourceVersion
};
const char* to_string(WatchEvent::Type t) noexcept;

struct WatcherOptions {
  /// The collection, as a full URL on the cluster's server:
  /// "https://host:6443/apis/coordination.k8s.io/v1/namespaces/default/leases".
  std::string collection_url;
  std::string field_selector;  ///< e.g. "metadata.name=my-lease"
  std::string label_selector;
  /// Start by watching from this version instead of listing ("": list
  /// first; "0": the server's current objects arrive as ADDED events).
  std::string resource_version;
  /// timeoutSeconds asked of the server per watch request is between this
  /// and twice this (random, as client-go's reflector: watchers started
  /// together do not reconnect together); the server then ends the stream
  /// cleanly and the watcher resumes at once.
  std::chrono::seconds watch_timeout = std::chrono::minutes(5);
  /// A stream with no byte for this long is closed and resumed (a real API
  /// server sends a bookmark about once a minute).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(90);
  std::chrono::milliseconds list_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds backoff_base = std::chrono::milliseconds(800);
  std::chrono::milliseconds backoff_max = std::chrono::seconds(30);
  /// At most this many bytes of stream that the callbacks have not taken
  /// yet are held (one line larger than this is still taken alone). When
  /// the callbacks fall further behind, the stream is cut after the last
  /// line held, those lines are delivered, and the watch resumes from the
  /// last delivered version: nothing lost or repeated, stats().overflows
  /// counted, on_status told (inside a watch from "0"'s initial ADDED
  /// events it lists instead; see above). 16 MiB: a dozen objects at etcd's 1.5 MB
  /// limit, tens of thousands of typical ones.
  std::size_t max_queued_bytes = std::size_t{16} << 20;
  /// The whole collection at the start and after each re-list: replace
  /// your state with it. `resource_version` is the list's.
  std::function<void(const std::vector<boost::json::object>& items, const std::string& resource_version)> on_list;
  /// Each ADDED, MODIFIED, DELETED or BOOKMARK, in order.
  std::function<void(const WatchEvent&)> on_event;
  /// One line per resume, re-list or failure, for logs.
  std::function<void(const std::string&)> on_status;
};

struct WatcherStats {
  std::uint64_t lists = 0;               ///< successful lists (the first included)
  std::uint64_t watches = 0;             ///< watch requests started
  std::uint64_t events = 0;              ///< events delivered (bookmarks included)
  std::uint64_t bookmarks = 0;
  std::uint64_t duplicates_dropped = 0;  ///< events not newer than the last delivered version
  std::uint64_t expired = 0;             ///< 410 Gone answers (each followed by a list)
  std::uint64_t failures = 0;            ///< failed lists or watches (each followed by a backoff)
  std::uint64_t overflows = 0;           ///< streams cut because the callbacks fell max_queued_bytes behind
  std::uint64_t queue_peak_bytes = 0;    ///< the most stream bytes ever held for the callbacks
};

class Watcher {
 public:
  /// `client` must outlive the watcher; its Options bring the TLS and
  /// credentials (see RestConfig::apply_to).
  Watcher(Client& client, WatcherOptions options);
  ~Watcher();  ///< stop()s, and joins the thread start() made
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  /// Lists and watches on the calling thread until stop().
  void run();
  /// run() on a thread of the watcher's own.
  void start();
  /// Ends run(): the stream in flight is cancelled. Idempotent.
  void stop();

  /// The last version delivered, the newest of a watch from "0"'s initial
  /// ADDED events ("" before the first list).
  std::string resource_version() const;
  WatcherStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebound::kube
