// The Lease store's state: the stored objects keyed by (namespace, name),
// the store-wide resourceVersion, the per-lease holder history, and the
// persistence of it all. Knows nothing of HTTP: lease_http.cpp validates
// requests and maps TableOutcome to status codes.
//
// Thread safety: every member locks one mutex; safe from any thread.
#pragma once

#include "rebound/lease/lease_store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
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
  storage_failed,  ///< the change could not be persisted and was rolled back; `message` says why
};

struct TableResult {
  TableOutcome outcome;
  boost::json::object object;
  std::string message;
};

class LeaseTable {
 public:
  /// Loads `persist_path` when set and present; throws std::runtime_error on
  /// an unreadable or malformed file.
  explicit LeaseTable(std::string persist_path);

  TableResult get(const std::string& ns, const std::string& name) const;
  /// A LeaseList of the namespace's leases, by name.
  boost::json::object list(const std::string& ns) const;
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
  using Key = std::pair<std::string, std::string>;  // namespace, name
  struct Entry {
    boost::json::object object;
    LeaseSpec spec;
  };
  // What the store has seen of a lease over time; outlives deletion.
  struct Record {
    std::vector<HolderChange> history;
    std::uint64_t writes = 0;
    std::optional<std::chrono::system_clock::time_point> holder_last_write;
  };

  // Replaces (or, with nullopt, deletes) the entry under `key`, records the
  // holder change, and persists both. On a persistence failure restores the
  // old entry, record and revision. Caller holds mutex_.
  TableResult commit_locked(const Key& key, std::optional<Entry> next, TableOutcome success);
  // The version of the next write: above every version handed out before,
  // by this store or (see the constructor) by an earlier one. Caller holds mutex_.
  std::uint64_t next_revision_locked();
  std::string serialize_locked() const;
  void load(const std::string& content);

  const std::string persist_path_;
  mutable std::mutex mutex_;
  std::map<Key, Entry> entries_;
  std::map<Key, Record> records_;
  std::uint64_t revision_ = 0;  // the last version handed out
};

}  // namespace rebound::lease::detail
