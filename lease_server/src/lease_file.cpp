// The persist file's format: see lease_file.hpp.
#include "lease_file.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <boost/json/array.hpp>

#include <charconv>
#include <stdexcept>

namespace rebound::lease::detail {

namespace {

// The file is not a store: why, naming the file.
[[noreturn]] void corrupt(const std::string& path, const std::string& why) {
  throw LeaseFileCorrupt("lease store file " + path + " is corrupt: " + why);
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
  if (!t) corrupt(file, "bad time in records: " + boost::json::serialize(*v));
  return SystemTime(*t);
}

std::string string_in(const boost::json::object& o, const char* key, const std::string& file) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) corrupt(file, std::string("records lack \"") + key + "\"");
  return std::string(v->get_string());
}

std::uint64_t number_in(const boost::json::object& o, const char* key, const std::string& file) {
  const auto* v = o.if_contains(key);
  if (!v || !(v->is_uint64() || (v->is_int64() && v->get_int64() >= 0)))
    corrupt(file, std::string("records lack \"") + key + "\"");
  return v->to_number<std::uint64_t>();
}

}  // namespace

StoreState parse_store_file(const std::string& content, const std::string& path) {
  StoreState state;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(content, ec);
  if (ec || !doc.is_object()) corrupt(path, "not a JSON object");
  const auto& root = doc.get_object();
  if (const auto* rev = root.if_contains("revision"); rev && rev->is_number())
    state.revision = rev->to_number<std::uint64_t>();
  const auto* leases = root.if_contains("leases");
  if (!leases || !leases->is_array()) corrupt(path, "no leases array");
  for (const auto& v : leases->get_array()) {
    std::string why;
    auto lease = lease_from_json(v, &why);
    if (!lease || lease->metadata.name.empty() || lease->metadata.namespace_.empty())
      corrupt(path, "bad lease: " + why);
    // The file's revision is authoritative, but never hand out a version
    // below one already stored (a hand-edited file).
    std::uint64_t rv = 0;
    const auto& text = lease->metadata.resource_version;
    std::from_chars(text.data(), text.data() + text.size(), rv);
    if (rv > state.revision) state.revision = rv;
    state.leases[{lease->metadata.namespace_, lease->metadata.name}] = StoredLease{v.get_object(), lease->spec};
  }
  // Server-managed fields a hand-written file may lack: every stored object
  // has them, so the table can rely on them.
  for (auto& [key, entry] : state.leases) {
    auto& meta = metadata_of(entry.object);
    if (!meta.contains("resourceVersion")) meta["resourceVersion"] = std::to_string(++state.revision);
    if (!meta.contains("uid")) meta["uid"] = make_uid();
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = format_time(now_micro());
    entry.object["apiVersion"] = api_version;
    entry.object["kind"] = "Lease";
  }
  // What the store had seen of each lease (absent from older files).
  const auto* records = root.if_contains("records");
  if (!records) return state;
  if (!records->is_array()) corrupt(path, "records is not an array");
  for (const auto& v : records->get_array()) {
    if (!v.is_object()) corrupt(path, "a record is not an object");
    const auto& o = v.get_object();
    LeaseRecord record;
    record.writes = number_in(o, "writes", path);
    record.holder_last_write = time_from_json(o.if_contains("holderLastWrite"), path);
    const auto* changes = o.if_contains("holderChanges");
    if (!changes || !changes->is_array())
      corrupt(path, "a record has no holderChanges array");
    for (const auto& c : changes->get_array()) {
      if (!c.is_object()) corrupt(path, "a holder change is not an object");
      const auto& co = c.get_object();
      HolderChange change;
      change.previous_holder = string_in(co, "previousHolder", path);
      change.holder = string_in(co, "holder", path);
      const auto at = time_from_json(co.if_contains("at"), path);
      if (!at) corrupt(path, "a holder change has no time");
      change.at = *at;
      change.previous_holder_last_write = time_from_json(co.if_contains("previousHolderLastWrite"), path);
      change.previous_lease_duration_seconds =
          static_cast<std::int32_t>(number_in(co, "previousLeaseDurationSeconds", path));
      change.resource_version = string_in(co, "resourceVersion", path);
      record.history.push_back(std::move(change));
    }
    state.records[{string_in(o, "namespace", path), string_in(o, "name", path)}] = std::move(record);
  }
  return state;
}

std::string serialize_store(const StoreState& state) {
  boost::json::array leases;
  for (const auto& [key, entry] : state.leases) leases.push_back(entry.object);
  boost::json::array records;
  for (const auto& [key, record] : state.records) {
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
  root["revision"] = state.revision;
  root["leases"] = std::move(leases);
  root["records"] = std::move(records);
  return boost::json::serialize(root);
}

}  // namespace rebound::lease::detail
