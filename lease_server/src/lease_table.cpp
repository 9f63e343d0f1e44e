// The Lease store's state and its changes: see lease_table.hpp.
#include "lease_table.hpp"

#include "atomic_file.hpp"
#include "lease_file.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

namespace rebound::lease::detail {

namespace {

// The wall clock in microseconds since the epoch: where resourceVersions
// start when no file says where the last store stopped.
std::uint64_t clock_version() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Renames the corrupt file at `path` to "<path>.corrupt-<UTC time>" (never
// over another file) and returns the new name. The bytes are kept as they
// were: what was in them is for a person to judge, not for the store.
std::string move_aside(const std::string& path) {
  std::string stamp = format_micro_time(now_micro());  // 2026-11-27T10:00:00.000000Z
  std::erase(stamp, '-');
  std::erase(stamp, ':');
  for (int n = 0; n < 100; ++n) {
    const std::string aside = path + ".corrupt-" + stamp + (n ? "-" + std::to_string(n) : "");
    if (::access(aside.c_str(), F_OK) == 0) continue;
    if (::rename(path.c_str(), aside.c_str()) != 0)
      throw std::runtime_error("lease store " + path + ": cannot move the corrupt file aside to " + aside + ": " +
                               std::strerror(errno));
    return aside;
  }
  throw std::runtime_error("lease store " + path + ": cannot find a free name to move the corrupt file aside to");
}

// Sets what the server manages in a new object: kind, name, namespace, uid,
// creationTimestamp; the resourceVersion is set when the change commits.
void prepare_new(boost::json::object& lease, const std::string& ns, const std::string& name) {
  lease["apiVersion"] = api_version;
  lease["kind"] = "Lease";
  auto& meta = metadata_of(lease);
  meta["name"] = name;
  meta["namespace"] = ns;
  meta["uid"] = make_uid();
  meta["creationTimestamp"] = format_time(now_micro());
  meta.erase("resourceVersion");
}

std::string uid_precondition_failed(const std::string& wanted, std::string_view stored) {
  return "Precondition failed: UID in precondition: " + wanted + ", UID in object meta: " + std::string(stored);
}

// Records the change from `previous` to `next` of one lease in its record.
void record_write(LeaseRecord& record, const StoredLease* previous, const StoredLease* next,
                  const std::string& version) {
  const auto now = std::chrono::system_clock::now();
  ++record.writes;
  const std::string old_holder = previous ? previous->spec.holder_identity : "";
  const std::string new_holder = next ? next->spec.holder_identity : "";
  if (old_holder != new_holder) {
    HolderChange change;
    change.previous_holder = old_holder;
    change.holder = new_holder;
    change.at = now;
    change.previous_holder_last_write = old_holder.empty() ? std::nullopt : record.holder_last_write;
    change.previous_lease_duration_seconds = previous ? previous->spec.lease_duration_seconds.value_or(0) : 0;
    change.resource_version = version;
    record.history.push_back(std::move(change));
  }
  // A write that leaves a holder in place is that holder's renewal.
  record.holder_last_write = new_holder.empty() ? std::nullopt : std::optional(now);
}

}  // namespace

LeaseTable::LeaseTable(std::string persist_path, bool move_aside_corrupt) : persist_path_(std::move(persist_path)) {
  auto state = std::make_shared<StoreState>();
  std::optional<std::string> content;
  if (!persist_path_.empty()) {
    // Before reading: what this store reads is then what no other store
    // will write (or move aside).
    lock_ = std::make_unique<FileLock>(persist_path_);
    content = read_whole_file(persist_path_);
  }
  if (content) {
    try {
      *state = parse_store_file(*content, persist_path_);
    } catch (const LeaseFileCorrupt&) {
      if (!move_aside_corrupt) throw;
      moved_aside_ = move_aside(persist_path_);
      content.reset();
    }
  }
  if (!content) {
    // No file holds the last version handed out (a memory-only store, or a
    // new file): versions follow the clock, so only a store restarted in the
    // same microsecond could hand one out again.
    state->revision = clock_version();
  }
  last_version_ = state->revision;
  committed_ = std::move(state);
}

LeaseTable::State LeaseTable::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return committed_;
}

std::uint64_t LeaseTable::next_revision() {
  // Never below the clock either, so a store restarted later starts above
  // every version this one handed out (unless writes came faster than one a
  // microsecond, or the wall clock was stepped back).
  last_version_ = std::max(last_version_ + 1, clock_version());
  return last_version_;
}

TableResult LeaseTable::get(const std::string& ns, const std::string& name) const {
  const auto state = snapshot();
  const auto it = state->leases.find({ns, name});
  if (it == state->leases.end()) return {TableOutcome::not_found, {}, {}};
  return {TableOutcome::ok, it->second.object, {}};
}

boost::json::object LeaseTable::list(const ObjectFilter& filter) const {
  const auto state = snapshot();
  boost::json::array items;
  const auto first = filter.ns.empty() ? state->leases.begin() : state->leases.lower_bound({filter.ns, ""});
  for (auto it = first; it != state->leases.end() && (filter.ns.empty() || it->first.first == filter.ns); ++it)
    if (filter.matches(it->second.object)) items.push_back(it->second.object);
  boost::json::object out;
  out["apiVersion"] = api_version;
  out["kind"] = "LeaseList";
  out["metadata"] = boost::json::object{{"resourceVersion", std::to_string(state->revision)}};
  out["items"] = std::move(items);
  return out;
}

TableResult LeaseTable::create(const std::string& ns, const std::string& name, boost::json::object lease,
                               const LeaseSpec& spec) {
  std::lock_guard lock(write_mutex_);
  const auto base = snapshot();
  const LeaseKey key{ns, name};
  if (base->leases.contains(key)) return {TableOutcome::already_exists, {}, {}};
  prepare_new(lease, ns, name);
  return commit(base, key, StoredLease{std::move(lease), spec}, TableOutcome::created);
}

TableResult LeaseTable::put(const std::string& ns, const std::string& name, boost::json::object lease,
                            const LeaseSpec& spec, const std::string& expected_version, const std::string& uid) {
  std::lock_guard lock(write_mutex_);
  const auto base = snapshot();
  const LeaseKey key{ns, name};
  const auto it = base->leases.find(key);
  // Like kube-apiserver's storage, the uid precondition comes first; a
  // missing lease has no uid, so a write naming one cannot create it.
  if (!uid.empty()) {
    const std::string_view stored = it == base->leases.end()
                                        ? std::string_view{}
                                        : std::string_view(it->second.object.at("metadata").at("uid").as_string());
    if (uid != stored) return {TableOutcome::uid_mismatch, {}, uid_precondition_failed(uid, stored)};
  }
  if (it == base->leases.end()) {
    // Leases allow create-on-update; with nothing stored there is no version
    // to check the body's against, so kube-apiserver does not.
    prepare_new(lease, ns, name);
    return commit(base, key, StoredLease{std::move(lease), spec}, TableOutcome::created);
  }
  const auto& current_meta = it->second.object.at("metadata").get_object();
  const auto& current_version = current_meta.at("resourceVersion").get_string();
  // The optimistic-concurrency check that makes leader election safe: a
  // writer that read an older version loses, and one that names no version
  // at all is not let through either (leases allow no unconditional update).
  if (expected_version.empty()) return {TableOutcome::version_required, {}, {}};
  if (expected_version != current_version) return {TableOutcome::conflict, {}, {}};

  lease["apiVersion"] = api_version;
  lease["kind"] = "Lease";
  auto& meta = metadata_of(lease);
  meta["name"] = name;
  meta["namespace"] = ns;
  // Server-managed fields are not the client's to change.
  meta["uid"] = current_meta.at("uid");
  meta["creationTimestamp"] = current_meta.at("creationTimestamp");
  meta["resourceVersion"] = current_version;
  // Like the API server, a write that changes nothing is not a new version.
  if (lease == it->second.object) return {TableOutcome::ok, it->second.object, {}};
  meta.erase("resourceVersion");
  return commit(base, key, StoredLease{std::move(lease), spec}, TableOutcome::ok);
}

TableResult LeaseTable::remove(const std::string& ns, const std::string& name) {
  std::lock_guard lock(write_mutex_);
  const auto base = snapshot();
  const LeaseKey key{ns, name};
  if (!base->leases.contains(key)) return {TableOutcome::not_found, {}, {}};
  return commit(base, key, std::nullopt, TableOutcome::ok);
}

TableResult LeaseTable::commit(const State& base, const LeaseKey& key, std::optional<StoredLease> next,
                               TableOutcome success) {
  // The next state is a copy: readers keep the committed one, untouched,
  // until this one is durable.
  auto state = std::make_shared<StoreState>(*base);
  const auto old = base->leases.find(key);
  const StoredLease* previous = old == base->leases.end() ? nullptr : &old->second;
  state->revision = next_revision();
  const std::string version = std::to_string(state->revision);
  if (next) {
    metadata_of(next->object)["resourceVersion"] = version;
    state->leases[key] = *next;
  } else {
    state->leases.erase(key);
  }
  // The record is persisted with the change, so a restarted server (even a
  // new process) continues the history where the last one left it.
  record_write(state->records[key], previous, next ? &*next : nullptr, version);

  // Outside snapshot_mutex_: a slow disk delays other writes, never reads.
  if (!persist_path_.empty()) {
    if (auto error = replace_file_atomically(persist_path_, serialize_store(*state)); !error.empty())
      // Not acknowledged, so not published. Its version is not handed out
      // again: the file may hold it (see replace_file_atomically).
      return {TableOutcome::storage_failed, {}, error};
  }
  {
    std::lock_guard lock(snapshot_mutex_);
    committed_ = std::move(state);
  }
  if (observer_) {
    // Still under write_mutex_: watchers get changes in version order.
    CommitEvent event;
    event.type = !previous ? CommitEvent::Type::added : next ? CommitEvent::Type::modified : CommitEvent::Type::deleted;
    event.ns = key.first;
    event.name = key.second;
    event.revision = std::stoull(version);
    if (next) {
      event.object = next->object;
    } else {
      // A deleted object is announced as it was, at the deletion's version.
      event.object = previous->object;
      metadata_of(event.object)["resourceVersion"] = version;
    }
    observer_(event);
  }
  return {success, next ? next->object : boost::json::object{}, {}};
}

std::optional<boost::json::object> LeaseTable::find(const std::string& ns, const std::string& name) const {
  const auto state = snapshot();
  const auto it = state->leases.find({ns, name});
  if (it == state->leases.end()) return std::nullopt;
  return it->second.object;
}

std::vector<HolderChange> LeaseTable::history(const std::string& ns, const std::string& name) const {
  const auto state = snapshot();
  const auto it = state->records.find({ns, name});
  return it == state->records.end() ? std::vector<HolderChange>{} : it->second.history;
}

std::uint64_t LeaseTable::writes(const std::string& ns, const std::string& name) const {
  const auto state = snapshot();
  const auto it = state->records.find({ns, name});
  return it == state->records.end() ? 0 : it->second.writes;
}

std::uint64_t LeaseTable::revision() const { return snapshot()->revision; }

}  // namespace rebound::lease::detail
