// The API discovery documents kubectl reads before it touches a resource:
// /api (APIVersions), /api/v1 (an empty core APIResourceList), /apis
// (APIGroupList), /apis/coordination.k8s.io (APIGroup) and
// /apis/coordination.k8s.io/v1 (APIResourceList naming leases and the verbs
// the Lease API serves). Legacy (unaggregated) discovery: kubectl asks for the
// aggregated form first and falls back to these when the answer is plain
// application/json, as it does against older API servers.
#pragma once

#include <rebound/server/server.hpp>

namespace rebound::lease::detail {

/// Registers the documents' routes on `server`.
void install_discovery(server::Server& server);

}  // namespace rebound::lease::detail
