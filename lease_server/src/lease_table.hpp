// The Lease store's state and its changes: the committed StoreState, the
// write rules (create, kube-apiserver's update, delete), the resourceVersion
// counter, the holder history, and persisting each change before it is
// committed. Knows nothing of HTTP: lease_http.cpp validates requests and
// maps TableOutcome to status codes.
//
// Thread safety: every member is safe from any thread. Readers take the
// committed state as an immutable snapshot (a pointer copied under a mutex
// held for nothing else), so they never wait for a write, not even for its
// fsync; writers take turns for their whole write, persistence included, and
// publish the new state only once it is durable.
#pragma once

#include "file_lock.hpp"
#include "lease_state.hpp"
#include "watch_hub.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rebound::lease::detail {

enum class TableOutcome {
  ok,                ///< read or changed; `object` is the stored object
  created,           ///< created; `object` is the stored object
  not_found,         ///< no such lease
  conflict,          ///< the expected resourceVersion is not the current one
  uid_mismatch,      ///< the write names another object's uid; `message` says which
  version_required,  ///< an update of a stored lease that names no resourceVersion
  already_exists,    ///< create of a lease that exists
  storage_failed,    ///< the change could not be persisted and was not applied; `message` says why
};

struct TableResult {
  TableOutcome outcome;
  boost::json::object object;
  std::string message;
};

class LeaseTable {
 public:
  /// Locks `persist_path` when set (see file_lock.hpp) and loads it when
  /// present; throws LeaseFileInUse when another store holds it,
  /// LeaseFileCorrupt when it holds no store (unless `move_aside_corrupt`:
  /// then it is renamed to "<persist_path>.corrupt-<UTC time>" and the table
  /// starts empty), std::runtime_error when it cannot be locked or read.
  LeaseTable(std::string persist_path, bool move_aside_corrupt);

  /// Where a corrupt file was moved to, or "".
  const std::string& moved_aside() const { return moved_aside_; }

  /// Called with every committed change, in commit order, once it is
  /// durable and readable, before the write is answered (under the write
  /// lock: it must not write to the table). Set before the table is shared.
  void on_commit(std::function<void(const CommitEvent&)> observer) { observer_ = std::move(observer); }
  /// The committed state; stays valid and unchanged for as long as it is held.
  std::shared_ptr<const StoreState> committed() const { return snapshot(); }

  TableResult get(const std::string& ns, const std::string& name) const;
  /// A LeaseList of the leases `filter` matches (its namespace empty: all
  /// namespaces), by namespace and name; metadata.resourceVersion is the
  /// state's revision.
  boost::json::object list(const ObjectFilter& filter) const;
  /// `lease` is a validated Lease object whose typed spec is `spec`; the table
  /// sets the server-managed metadata.
  TableResult create(const std::string& ns, const std::string& name, boost::json::object lease,
                     const LeaseSpec& spec);
  /// A PUT, as kube-apiserver updates a Lease: a `uid` (when not empty) is
  /// a precondition checked first (uid_mismatch, a missing lease included);
  /// a missing lease is created (create-on-update, whatever
  /// `expected_version` says); a stored one is updated only when
  /// `expected_version` names its current version (empty: version_required;
  /// another: conflict).
  TableResult put(const std::string& ns, const std::string& name, boost::json::object lease, const LeaseSpec& spec,
                  const std::string& expected_version, const std::string& uid);
  TableResult remove(const std::string& ns, const std::string& name);

  std::optional<boost::json::object> find(const std::string& ns, const std::string& name) const;
  std::vector<HolderChange> history(const std::string& ns, const std::string& name) const;
  std::uint64_t writes(const std::string& ns, const std::string& name) const;
  std::uint64_t revision() const;

 private:
  using State = std::shared_ptr<const StoreState>;

  /// The committed state; stays valid and unchanged for as long as it is held.
  State snapshot() const;
  // Makes `base` with `key` replaced by `next` (nullopt: deleted) the new
  // state: a new version, the holder change recorded, persisted, then
  // published. On a persistence failure nothing is published. Caller holds
  // write_mutex_, and `base` is the committed state.
  TableResult commit(const State& base, const LeaseKey& key, std::optional<StoredLease> next, TableOutcome success);
  // The version of the next write: above every version handed out before,
  // by this store or (see the constructor) by an earlier one. Caller holds
  // write_mutex_.
  std::uint64_t next_revision();

  const std::string persist_path_;
  std::unique_ptr<FileLock> lock_;  // held for the table's life when persisted
  std::function<void(const CommitEvent&)> observer_;
  std::string moved_aside_;
  std::mutex write_mutex_;  // one write at a time, from its checks to its publication
  std::uint64_t last_version_ = 0;  // guarded by write_mutex_: the last version handed out
  mutable std::mutex snapshot_mutex_;  // guards committed_ (the pointer only)
  State committed_;
};

}  // namespace rebound::lease::detail
