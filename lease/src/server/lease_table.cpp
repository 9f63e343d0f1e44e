// The Lease store's state and its persistence: see lease_table.hpp.
#include "server/lease_table.hpp"

#include "server/atomic_file.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace rebound::lease::detail {

namespace {

// A random version-4 UUID, as the API server gives every object.
std::string make_uid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = (rng() & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  const std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
                (unsigned long long)((hi >> 16) & 0xFFFF), (unsigned long long)(hi & 0xFFFF),
                (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

boost::json::object& metadata_of(boost::json::object& lease) {
  auto& m = lease["metadata"];
  if (!m.is_object()) m = boost::json::object{};
  return m.get_object();
}

using SystemTime = std::chrono::system_clock::time_point;

boost::json::value time_json(const std::optional<SystemTime>& t) {
  if (!t) return nullptr;
  return boost::json::string(format_micro_time(std::chrono::time_point_cast<std::chrono::microseconds>(*t)));
}

// A time the file recorded (null: none); throws on anything else.
std::optional<SystemTime> time_from_json(const boost::json::value* v, const std::string& file) {
  if (!v || v->is_null()) return std::nullopt;
  std::optional<MicroTime> t;
  if (v->is_string()) t = parse_time(v->get_string());
  if (!t) throw std::runtime_error("lease store " + file + ": bad time in records: " + boost::json::serialize(*v));
  return SystemTime(*t);
}

std::string string_in(const boost::json::object& o, const char* key, const std::string& file) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) throw std::runtime_error("lease store " + file + ": records lack \"" + key + "\"");
  return std::string(v->get_string());
}

std::uint64_t number_in(const boost::json::object& o, const char* key, const std::string& file) {
  const auto* v = o.if_contains(key);
  if (!v || !(v->is_uint64() || (v->is_int64() && v->get_int64() >= 0)))
    throw std::runtime_error("lease store " + file + ": records lack \"" + key + "\"");
  return v->to_number<std::uint64_t>();
}

// The wall clock in microseconds since the epoch: where resourceVersions
// start when no file says where the last store stopped.
std::uint64_t clock_version() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

LeaseTable::LeaseTable(std::string persist_path) : persist_path_(std::move(persist_path)) {
  if (!persist_path_.empty()) {
    if (auto content = read_whole_file(persist_path_)) {
      load(*content);
      return;
    }
  }
  // No file holds the last version handed out (a memory-only store, or a new
  // file): a store restarted in the same microsecond is the only one that
  // could hand out a version again, and versions follow the clock.
  revision_ = clock_version();
}

std::uint64_t LeaseTable::next_revision_locked() {
  // Never below the clock either, so a store restarted later starts above
  // every version this one handed out (unless writes came faster than one a
  // microsecond, or the wall clock was stepped back).
  revision_ = std::max(revision_ + 1, clock_version());
  return revision_;
}

void LeaseTable::load(const std::string& content) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(content, ec);
  if (ec || !doc.is_object()) throw std::runtime_error("lease store " + persist_path_ + ": not a JSON object");
  const auto& root = doc.get_object();
  if (const auto* rev = root.if_contains("revision"); rev && rev->is_number())
    revision_ = rev->to_number<std::uint64_t>();
  const auto* leases = root.if_contains("leases");
  if (!leases || !leases->is_array()) throw std::runtime_error("lease store " + persist_path_ + ": no leases array");
  for (const auto& v : leases->get_array()) {
    std::string why;
    auto lease = lease_from_json(v, &why);
    if (!lease || lease->metadata.name.empty() || lease->metadata.namespace_.empty())
      throw std::runtime_error("lease store " + persist_path_ + ": bad lease: " + why);
    // The file's revision is authoritative, but never hand out a version
    // below one already stored (a hand-edited file).
    std::uint64_t rv = 0;
    const auto& text = lease->metadata.resource_version;
    std::from_chars(text.data(), text.data() + text.size(), rv);
    if (rv > revision_) revision_ = rv;
    entries_[{lease->metadata.namespace_, lease->metadata.name}] = Entry{v.get_object(), lease->spec};
  }
  // Server-managed fields a hand-written file may lack: every stored object
  // has them, so update() can rely on them.
  for (auto& [key, entry] : entries_) {
    auto& meta = metadata_of(entry.object);
    if (!meta.contains("resourceVersion")) meta["resourceVersion"] = std::to_string(++revision_);
    if (!meta.contains("uid")) meta["uid"] = make_uid();
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = format_time(now_micro());
    entry.object["apiVersion"] = api_version;
    entry.object["kind"] = "Lease";
  }
  // What the store had seen of each lease (absent from older files).
  const auto* records = root.if_contains("records");
  if (!records) return;
  if (!records->is_array()) throw std::runtime_error("lease store " + persist_path_ + ": records is not an array");
  for (const auto& v : records->get_array()) {
    if (!v.is_object()) throw std::runtime_error("lease store " + persist_path_ + ": a record is not an object");
    const auto& o = v.get_object();
    Record record;
    record.writes = number_in(o, "writes", persist_path_);
    record.holder_last_write = time_from_json(o.if_contains("holderLastWrite"), persist_path_);
    const auto* changes = o.if_contains("holderChanges");
    if (!changes || !changes->is_array())
      throw std::runtime_error("lease store " + persist_path_ + ": a record has no holderChanges array");
    for (const auto& c : changes->get_array()) {
      if (!c.is_object()) throw std::runtime_error("lease store " + persist_path_ + ": a holder change is not an object");
      const auto& co = c.get_object();
      HolderChange change;
      change.previous_holder = string_in(co, "previousHolder", persist_path_);
      change.holder = string_in(co, "holder", persist_path_);
      const auto at = time_from_json(co.if_contains("at"), persist_path_);
      if (!at) throw std::runtime_error("lease store " + persist_path_ + ": a holder change has no time");
      change.at = *at;
      change.previous_holder_last_write = time_from_json(co.if_contains("previousHolderLastWrite"), persist_path_);
      change.previous_lease_duration_seconds =
          static_cast<std::int32_t>(number_in(co, "previousLeaseDurationSeconds", persist_path_));
      change.resource_version = string_in(co, "resourceVersion", persist_path_);
      record.history.push_back(std::move(change));
    }
    records_[{string_in(o, "namespace", persist_path_), string_in(o, "name", persist_path_)}] = std::move(record);
  }
}

std::string LeaseTable::serialize_locked() const {
  boost::json::array leases;
  for (const auto& [key, entry] : entries_) leases.push_back(entry.object);
  boost::json::array records;
  for (const auto& [key, record] : records_) {
    boost::json::array changes;
    for (const auto& c : record.history)
      changes.push_back({{"previousHolder", c.previous_holder},
                         {"holder", c.holder},
                         {"at", time_json(c.at)},
                         {"previousHolderLastWrite", time_json(c.previous_holder_last_write)},
                         {"previousLeaseDurationSeconds", c.previous_lease_duration_seconds},
                         {"resourceVersion", c.resource_version}});
    records.push_back({{"namespace", key.first},
                       {"name", key.second},
                       {"writes", record.writes},
                       {"holderLastWrite", time_json(record.holder_last_write)},
                       {"holderChanges", std::move(changes)}});
  }
  boost::json::object root;
  root["revision"] = revision_;
  root["leases"] = std::move(leases);
  root["records"] = std::move(records);
  return boost::json::serialize(root);
}

TableResult LeaseTable::get(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find({ns, name});
  if (it == entries_.end()) return {TableOutcome::not_found, {}, {}};
  return {TableOutcome::ok, it->second.object, {}};
}

boost::json::object LeaseTable::list(const std::string& ns) const {
  std::lock_guard lock(mutex_);
  boost::json::array items;
  for (auto it = entries_.lower_bound({ns, ""}); it != entries_.end() && it->first.first == ns; ++it)
    items.push_back(it->second.object);
  boost::json::object out;
  out["apiVersion"] = api_version;
  out["kind"] = "LeaseList";
  out["metadata"] = boost::json::object{{"resourceVersion", std::to_string(revision_)}};
  out["items"] = std::move(items);
  return out;
}

namespace {

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

}  // namespace

TableResult LeaseTable::create(const std::string& ns, const std::string& name, boost::json::object lease,
                               const LeaseSpec& spec) {
  std::lock_guard lock(mutex_);
  const Key key{ns, name};
  if (entries_.contains(key)) return {TableOutcome::already_exists, {}, {}};
  prepare_new(lease, ns, name);
  return commit_locked(key, Entry{std::move(lease), spec}, TableOutcome::created);
}

TableResult LeaseTable::put(const std::string& ns, const std::string& name, boost::json::object lease,
                            const LeaseSpec& spec, const std::string& expected_version, const std::string& uid) {
  std::lock_guard lock(mutex_);
  const Key key{ns, name};
  const auto it = entries_.find(key);
  // Like kube-apiserver's storage, the uid precondition comes first; a
  // missing lease has no uid, so a write naming one cannot create it.
  if (!uid.empty()) {
    const std::string_view stored =
        it == entries_.end() ? std::string_view{} : std::string_view(it->second.object.at("metadata").at("uid").as_string());
    if (uid != stored) return {TableOutcome::uid_mismatch, {}, uid_precondition_failed(uid, stored)};
  }
  if (it == entries_.end()) {
    // Leases allow create-on-update; with nothing stored there is no version
    // to check the body's against, so kube-apiserver does not.
    prepare_new(lease, ns, name);
    return commit_locked(key, Entry{std::move(lease), spec}, TableOutcome::created);
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
  return commit_locked(key, Entry{std::move(lease), spec}, TableOutcome::ok);
}

TableResult LeaseTable::remove(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mutex_);
  const Key key{ns, name};
  if (!entries_.contains(key)) return {TableOutcome::not_found, {}, {}};
  return commit_locked(key, std::nullopt, TableOutcome::ok);
}

TableResult LeaseTable::commit_locked(const Key& key, std::optional<Entry> next, TableOutcome success) {
  const auto now = std::chrono::system_clock::now();
  std::optional<Entry> previous;
  if (auto it = entries_.find(key); it != entries_.end()) previous = it->second;
  const std::uint64_t previous_revision = revision_;
  std::optional<Record> previous_record;
  if (auto it = records_.find(key); it != records_.end()) previous_record = it->second;

  const std::string version = std::to_string(next_revision_locked());
  if (next) {
    metadata_of(next->object)["resourceVersion"] = version;
    entries_[key] = *next;
  } else {
    entries_.erase(key);
  }

  // The record is persisted with the change, so a restarted server (even a
  // new process) continues the history where the last one left it.
  auto& record = records_[key];
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

  if (!persist_path_.empty()) {
    if (auto error = replace_file_atomically(persist_path_, serialize_locked()); !error.empty()) {
      // Not acknowledged, so not applied: put everything back.
      revision_ = previous_revision;
      if (previous)
        entries_[key] = *previous;
      else
        entries_.erase(key);
      if (previous_record)
        records_[key] = *previous_record;
      else
        records_.erase(key);
      return {TableOutcome::storage_failed, {}, error};
    }
  }

  return {success, next ? next->object : boost::json::object{}, {}};
}

std::optional<boost::json::object> LeaseTable::find(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find({ns, name});
  if (it == entries_.end()) return std::nullopt;
  return it->second.object;
}

std::vector<HolderChange> LeaseTable::history(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = records_.find({ns, name});
  return it == records_.end() ? std::vector<HolderChange>{} : it->second.history;
}

std::uint64_t LeaseTable::writes(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = records_.find({ns, name});
  return it == records_.end() ? 0 : it->second.writes;
}

std::uint64_t LeaseTable::revision() const {
  std::lock_guard lock(mutex_);
  return revision_;
}

}  // namespace rebound::lease::detail
