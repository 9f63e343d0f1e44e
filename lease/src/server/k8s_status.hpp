// Kubernetes Status bodies (kind Status, apiVersion v1): what the API server
// answers instead of an object when a request fails, so clients written for
// Kubernetes (client-go's errors.IsConflict and friends) read our errors.
#pragma once

#include <rebound/server/server.hpp>

#include <string>
#include <string_view>

namespace rebound::lease::detail {

/// A failure: status Failure, `reason` (NotFound, Conflict, AlreadyExists,
/// BadRequest, Invalid, MethodNotAllowed, Unauthorized, InternalError),
/// `message`, code = `status`; details name the lease when `name` is set.
server::ServerResponse status_failure(int status, std::string_view reason, std::string message,
                                      std::string_view name = {});
/// 422 Invalid for one field, as the API server words it:
/// `leases.coordination.k8s.io "NAME" is invalid: FIELD: Invalid value: VALUE: DETAIL`,
/// with details.causes naming the field (FieldValueInvalid).
server::ServerResponse status_invalid(std::string_view name, std::string_view field, std::string_view value,
                                      std::string_view detail);
/// A success Status (what DELETE answers).
server::ServerResponse status_success(std::string_view name);

}  // namespace rebound::lease::detail
