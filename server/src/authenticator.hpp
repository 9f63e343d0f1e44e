// Authentication of requests under /api and /apis, as a Kubernetes API
// server authenticates them: an Authorization header (bearer token or basic
// auth) or, without one, a verified client certificate. Decides who sent a
// request (ServerRequest::user, read_only) or answers 401 with a Kubernetes
// Status; what a user may do is the route's business (the Lease API refuses
// writes by read-only users with 403).
#pragma once

#include <optional>
#include <string>

#include "rebound/server/server.hpp"

namespace rebound::server::detail {

/// Whether `path` is one authentication applies to: "/api", "/apis" or below.
bool needs_authentication(std::string_view path);

/// Sets request.user and request.read_only from its credentials and
/// `peer_cn` (the CN of a verified client certificate, or ""). Returns the
/// 401 answer when the request must be refused, nullopt when it may go on.
std::optional<ServerResponse> authenticate(const ServerOptions& options, ServerRequest& request,
                                           const std::string& peer_cn);

}  // namespace rebound::server::detail
