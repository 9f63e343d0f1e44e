// The persist file's format: a StoreState as one JSON document,
//   {"revision": N, "leases": [Lease...],
//    "records": [{"namespace", "name", "writes", "holderLastWrite",
//                 "holderChanges": [{"previousHolder", "holder", "at",
//                   "previousHolderLastWrite", "previousLeaseDurationSeconds",
//                   "resourceVersion"}...]}...]}
// (times as MicroTime; "records" absent from older files).
#pragma once

#include "lease_state.hpp"

#include <string>

namespace rebound::lease::detail {

/// The state a file holds. A hand-written file may lack server-managed
/// fields (resourceVersion, uid, creationTimestamp, kind): they are filled
/// in. Throws LeaseFileCorrupt naming `path` and what is wrong when
/// `content` is not such a file.
StoreState parse_store_file(const std::string& content, const std::string& path);

std::string serialize_store(const StoreState& state);

}  // namespace rebound::lease::detail
