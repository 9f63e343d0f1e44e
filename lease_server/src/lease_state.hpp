// The Lease store's state as one value: the stored objects keyed by
// (namespace, name), what the store has seen of each lease over time (kept
// after a delete), and the store-wide resourceVersion. The table publishes
// it as an immutable snapshot; lease_file.cpp reads and writes it.
#pragma once

#include "rebound/lease_server/lease_store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rebound::lease::detail {

using LeaseKey = std::pair<std::string, std::string>;  // namespace, name

/// A stored Lease: the JSON object as a GET returns it, and its typed spec.
struct StoredLease {
  boost::json::object object;
  LeaseSpec spec;
};

/// What the store has seen of one lease.
struct LeaseRecord {
  std::vector<HolderChange> history;
  std::uint64_t writes = 0;
  /// The current holder's last write (acquisition or renewal).
  std::optional<std::chrono::system_clock::time_point> holder_last_write;
};

struct StoreState {
  std::map<LeaseKey, StoredLease> leases;
  std::map<LeaseKey, LeaseRecord> records;
  std::uint64_t revision = 0;  ///< the version of the last committed write
};

/// A random version-4 UUID, as the API server gives every object.
std::string make_uid();
/// lease["metadata"], made an object if it is not one.
boost::json::object& metadata_of(boost::json::object& lease);

}  // namespace rebound::lease::detail
