// How `rebound watch` prints what its EndpointLog saw: a line (or JSON
// object) when an endpoint goes down or comes back, and the per-endpoint
// part of the summary (polls served, outages).
#pragma once

#include "endpoints/endpoint_log.hpp"

#include <boost/json.hpp>

#include <ostream>
#include <vector>

namespace rebound::cli {

/// Text: "  endpoint http://a:1 DOWN (connection_refused)" / "... UP after 1234 ms".
/// JSON: {"endpoint":..., "index":..., "state":"down"|"up", "time_ms":..., "error"|"down_for_ms":...}.
void print_endpoint_changes(std::ostream& out, const EndpointLog& log, const std::vector<EndpointLog::Change>& changes,
                            bool json);
/// [{"endpoint":..., "served":N, "outages":[{"down_ms","up_ms"|null,"error"}]}, ...]
boost::json::array endpoints_summary_json(const EndpointLog& log);
/// One line per endpoint, then one per outage of it.
void print_endpoints_summary(std::ostream& out, const EndpointLog& log);

}  // namespace rebound::cli
