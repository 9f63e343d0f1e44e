// The Lease API for the embedded server: an in-memory (optionally
// file-backed) store of coordination.k8s.io/v1 Leases served under
// /apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}], with the
// API server's optimistic concurrency (metadata.resourceVersion), status
// codes and Status bodies - enough for leader election clients, client-go's
// included, to run against rebound's server.
//
//     rebound::server::Server server({.tls = true});
//     auto store = rebound::lease::install_lease_api(server, {.persist_path = "/tmp/leases.json"});
//     server.start();
//     ...
//     for (auto& change : store->holder_history("default", "my-lock")) ...
//
// HTTP semantics:
//   GET    .../leases            200 LeaseList (metadata.resourceVersion: the store's revision);
//                                also all namespaces: GET /apis/coordination.k8s.io/v1/leases.
//                                Query: fieldSelector (metadata.name, metadata.namespace; =, ==, !=),
//                                labelSelector (=, ==, !=, key, !key; set-based terms are 400),
//                                resourceVersion + resourceVersionMatch=Exact (an older version
//                                than the revision: 410 Expired; a newer one: 504 Timeout; without
//                                Exact any version up to the revision gets the current list, as
//                                kube-apiserver's "not older than"). limit and continue are
//                                ignored: the list is always whole, with no continue token.
//   GET    .../leases?watch=true a watch stream (200, application/json, one event per line:
//                                {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}});
//                                resourceVersion, allowWatchBookmarks, timeoutSeconds and the
//                                selectors as above. See lease_server/src/watch_hub.hpp for the rules
//                                (window, 410 as an ERROR event, bookmarks, the send log).
//   POST   .../leases            201 Lease; 409 AlreadyExists; 422 Invalid (no/bad name, bad spec)
//   GET    .../leases/{name}     200 Lease; 404 NotFound
//   PUT    .../leases/{name}     as kube-apiserver updates a Lease (its generic registry's Update
//                                with the lease strategy: AllowCreateOnUpdate true,
//                                AllowUnconditionalUpdate false), checked in this order:
//                                - metadata.uid, when set, is a precondition: 409 Conflict
//                                  ("Precondition failed: UID in precondition ...") unless it is
//                                  the stored lease's uid - so the uid cannot be changed, and a
//                                  write naming a uid never creates;
//                                - a missing lease is created: 201 Lease (create-on-update), with
//                                  or without a resourceVersion in the body - kube-apiserver
//                                  checks the version only against a stored object;
//                                - an existing lease needs metadata.resourceVersion: none is
//                                  422 Invalid ("metadata.resourceVersion: ... must be specified
//                                  for an update"), another than the current one 409 Conflict;
//                                - then 200 Lease; a write that changes nothing keeps the
//                                  resourceVersion.
//                                A leader's renewal writes back the object it read, uid and
//                                version included: it never overwrites a write it did not see,
//                                and never brings back a deleted lease.
//   DELETE .../leases/{name}     200 Status Success; 404 NotFound
//   malformed JSON or a name/namespace that contradicts the URL: 400 BadRequest;
//   other methods: 405 MethodNotAllowed; other paths under the prefix: 404 NotFound;
//   with LeaseStoreOptions::bearer_token set, a missing or wrong token: 401 Unauthorized;
//   a write (POST, PUT, DELETE) by a read-only user (ServerRequest::read_only, see
//   ServerOptions::read_only_tokens): 403 Forbidden, in kube-apiserver's words.
// install_lease_api also serves the discovery documents kubectl reads: /api,
// /api/v1, /apis, /apis/coordination.k8s.io, /apis/coordination.k8s.io/v1.
// resourceVersion is one store-wide counter (like etcd's revision), strictly
// increasing and never below the wall clock in microseconds since the epoch:
// a store starts from its file's last version, or - in memory, or with a new
// file - from the clock, so a restarted store never hands out a version an
// earlier one did (short of more than a write a microsecond, or the clock
// stepped back), and a write based on an object read before a restart meets
// 409 after it.
//
// Persistence: with persist_path set, every change rewrites the whole file
// atomically and durably (temp file, fsync, rename, fsync of the directory)
// before it is acknowledged, and the constructor loads it, so a restarted
// server - even a new process - keeps its leases and resourceVersions, and
// what it has seen of each lease: the holder history, the write count and
// the holder's last write. A write that fails any of those steps is not
// applied and answers 500 InternalError (when only the directory's fsync
// failed the file may already hold it: like a lost answer, its outcome is
// unknown to the client until it reads the lease again).
//
// Thread safety: every member may be called from any thread (the server's
// handlers run on several). Writes take turns, each from its checks until it
// is durable; reads are answered from the last committed state and never
// wait for a write, not even for its fsync on a slow disk.
#pragma once

#include <rebound/lease/lease.hpp>
#include <rebound/server/server.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rebound::lease {

namespace detail {
class LeaseTable;
class WatchHub;
}

/// Another store holds the persist file (in this process or another):
/// what() names the file and, when known, the holder's pid.
class LeaseFileInUse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The persist file exists but holds no lease store (truncated, or edited by
/// hand into something else): what() names the file and what is wrong.
class LeaseFileCorrupt : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LeaseStoreOptions {
  /// JSON file that holds the store; empty: memory only. Loaded by the
  /// constructor when it exists (a corrupt file throws LeaseFileCorrupt,
  /// unless move_aside_corrupt_file), and locked for the store's life
  /// ("<persist_path>.lock", removed when the store goes): a second store on
  /// it throws LeaseFileInUse.
  std::string persist_path;
  /// When set, every request must carry "Authorization: Bearer <token>".
  std::string bearer_token;
  /// A corrupt persist file is renamed to "<persist_path>.corrupt-<UTC time>"
  /// (kept, never deleted) and the store starts with no leases
  /// (`rebound serve --leases-reset`). A file that loads is used as it is.
  /// Starting empty forgets who held what: a leader still running finds out
  /// at its next renewal (409, its uid names an object that is gone), which
  /// may come after another candidate has created the lease - stop the
  /// candidates first where that matters.
  bool move_aside_corrupt_file = false;

  // --- watches ---
  /// Committed changes kept for watches that resume from a resourceVersion;
  /// an older version gets 410 Expired.
  std::size_t watch_window = 1000;
  /// How often a watch with allowWatchBookmarks=true gets a BOOKMARK.
  std::chrono::milliseconds bookmark_interval{5000};
  /// A watch's length when the request names no timeoutSeconds.
  std::chrono::seconds default_watch_timeout{1800};
  /// The send log: one line per committed change ("commit TYPE NS/NAME RV")
  /// and per event queued on a watch stream ("WATCH-ID TYPE NS/NAME RV"),
  /// each one write(2) on an O_APPEND descriptor. Empty: none. The
  /// constructor throws std::runtime_error when it cannot be opened.
  std::string watch_log;

  // --- a store that forgets ---
  /// The longest spec.leaseDurationSeconds a write may set (longer: 422
  /// Invalid). When the store starts without its record - memory only, or a
  /// corrupt file moved aside - writes are also held for this long after it
  /// starts (503 ServiceUnavailable with Retry-After; reads are served):
  /// every lease it may have forgotten has expired by then, so no candidate
  /// can take over from a holder still working on a lease it no longer sees.
  /// That holder cannot renew either and loses its leadership: two leaders
  /// are worse. Unset: no limit, no hold (`rebound serve --leases`: 15 s).
  std::optional<std::chrono::seconds> max_lease_duration;
};

/// One change of holderIdentity, as the store applied it.
struct HolderChange {
  std::string previous_holder;  ///< "" when the lease was free or new
  std::string holder;           ///< "" when released (or deleted)
  std::chrono::system_clock::time_point at;  ///< when the store applied the change
  /// When the store last applied a write by `previous_holder` (renewal or
  /// acquisition); unset when it was free. A takeover that is not a release
  /// should come at least the previous record's leaseDurationSeconds later.
  std::optional<std::chrono::system_clock::time_point> previous_holder_last_write;
  /// The previous record's leaseDurationSeconds (0 when unset).
  std::int32_t previous_lease_duration_seconds = 0;
  std::string resource_version;  ///< of the write that made the change
};

class LeaseStore {
 public:
  /// Locks options.persist_path and loads it when it exists; throws
  /// LeaseFileInUse when another store holds it, LeaseFileCorrupt when it
  /// holds no store (see move_aside_corrupt_file), std::runtime_error when it
  /// cannot be locked or read.
  explicit LeaseStore(LeaseStoreOptions options = {});
  ~LeaseStore();
  LeaseStore(const LeaseStore&) = delete;
  LeaseStore& operator=(const LeaseStore&) = delete;

  /// The HTTP API: answers one request under the Lease prefix (see above).
  server::ServerResponse handle(const server::ServerRequest& request);

  // --- the store's own view, for tests and tools ---
  /// The current lease, or nullopt.
  std::optional<Lease> get(const std::string& ns, const std::string& name) const;
  /// The JSON object as stored (what a GET returns), or nullopt.
  std::optional<boost::json::object> get_json(const std::string& ns, const std::string& name) const;
  /// Every holder change of this lease, oldest first; survives deletion. A
  /// persisted store's history goes back to its file's first change (times
  /// kept to the microsecond); a memory-only one starts with the store.
  std::vector<HolderChange> holder_history(const std::string& ns, const std::string& name) const;
  /// holder_history(ns, name).size().
  std::uint64_t holder_changes(const std::string& ns, const std::string& name) const;
  /// Successful writes (create, update, delete) applied to this lease (a
  /// persisted store counts those of earlier processes too).
  std::uint64_t writes(const std::string& ns, const std::string& name) const;
  /// The current store-wide resourceVersion.
  std::uint64_t revision() const;
  /// Open watch streams (a client that went away is forgotten within about a second).
  std::size_t watchers() const;
  /// Where a corrupt persist file was moved to (move_aside_corrupt_file),
  /// or "" when none was.
  const std::string& corrupt_file_moved_to() const;

 private:
  server::ServerResponse handle_collection(const server::ServerRequest& request, const std::string& ns);

  LeaseStoreOptions options_;
  std::unique_ptr<detail::LeaseTable> table_;
  std::unique_ptr<detail::WatchHub> hub_;  // fed by table_'s commits
  std::chrono::steady_clock::time_point writes_held_until_{};  // see max_lease_duration
};

/// The route prefix the API is installed on.
inline constexpr std::string_view lease_api_prefix = "/apis/coordination.k8s.io/v1/namespaces/";

/// Creates a store and registers it on `server` for
/// "/apis/coordination.k8s.io/v1/namespaces/*", the all-namespaces list
/// "/apis/coordination.k8s.io/v1/leases", and the discovery documents. The route keeps the store
/// alive; the returned pointer is the tests' window into it (ignore it if
/// you do not need one). Call before or after start(); survives restart().
std::shared_ptr<LeaseStore> install_lease_api(server::Server& server, LeaseStoreOptions options = {});
/// Registers an existing store (e.g. one shared by several servers).
void install_lease_api(server::Server& server, std::shared_ptr<LeaseStore> store);

}  // namespace rebound::lease
