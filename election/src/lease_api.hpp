// The Lease API as the elector uses it: GET, create (POST) and update (PUT)
// of one Lease over rebound::Client, each bounded by a timeout and
// cancellable, answering with a classified outcome instead of raw HTTP.
//
// Thread safety: one caller at a time (the elector's run thread), except
// that a Cancellation passed in may be triggered from any thread.
#pragma once

#include <rebound/client.hpp>
#include <rebound/lease/lease.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace rebound::lease::detail {

enum class ApiOutcome {
  ok,         ///< 200/201: `object` and `lease` are the lease as the server now has it
  not_found,  ///< 404
  conflict,   ///< 409: Conflict (stale resourceVersion) or AlreadyExists
  failed,     ///< transport error, any other status, or an unreadable body
};

struct ApiResult {
  ApiOutcome outcome = ApiOutcome::failed;
  boost::json::object object;
  std::optional<Lease> lease;
  int status = 0;          ///< HTTP status, 0 when none arrived
  std::string error_kind;  ///< not ok: rebound::error_kind(), "http_<status>" or "bad_response"
  std::string message;
};

class LeaseApi {
 public:
  /// `client_options` carries the credentials (Options::credentials).
  LeaseApi(const Options& client_options, std::string base_url, std::string ns, std::string name);

  ApiResult get(std::chrono::milliseconds timeout, const Cancellation& cancel);
  ApiResult create(const boost::json::object& lease, std::chrono::milliseconds timeout,
                   const Cancellation& cancel);
  /// PUT `lease` as is: its metadata.resourceVersion makes it conditional.
  ApiResult update(const boost::json::object& lease, std::chrono::milliseconds timeout,
                   const Cancellation& cancel);

  /// Fails requests in flight (client_shut_down) and later ones.
  void shutdown() { client_.shutdown(); }

 private:
  ApiResult send(Request request, std::chrono::milliseconds timeout, const Cancellation& cancel);

  Client client_;
  std::string collection_url_;
  std::string lease_url_;
};

}  // namespace rebound::lease::detail
