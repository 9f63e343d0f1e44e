// Kubernetes Status bodies (kind Status, apiVersion v1): what the API server
// answers instead of an object when a request fails, so clients written for
// Kubernetes (client-go's errors.IsConflict and friends) read our errors.
#pragma once

#include <rebound/server/server.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
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
/// The Status object of a failure (no details), e.g. for a watch ERROR event.
boost::json::object failure_object(int code, std::string_view reason, std::string message);
/// 403 Forbidden, in kube-apiserver's words: `leases.coordination.k8s.io "NAME"
/// is forbidden: User "USER" cannot VERB resource "leases" in API group
/// "coordination.k8s.io" in the namespace "NS"` (no name, no quotes for a create).
server::ServerResponse status_forbidden(std::string_view verb, std::string_view ns, std::string_view name,
                                        std::string_view user);
/// 504 Timeout for a resourceVersion the store has not reached ("Too large
/// resource version: R, current: C", cause ResourceVersionTooLarge).
server::ServerResponse status_timeout_too_large(std::uint64_t requested, std::uint64_t current);

}  // namespace rebound::lease::detail
