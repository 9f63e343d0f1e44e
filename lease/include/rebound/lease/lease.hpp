// The Lease object (coordination.k8s.io/v1) as both the embedded Lease API
// and the leader-election client see it: a typed view of the fields leader
// election uses, its JSON mapping, Kubernetes' time formats, and the API paths.
//
// The JSON object stays the source of truth on both sides: the server stores
// what clients PUT, and the client edits only the spec fields below in the
// object it last read, so fields it does not know (labels, annotations,
// managedFields, newer spec fields) survive a round trip to a real API server.
//
// Thread safety: free functions and value types only.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::lease {

/// Kubernetes' MicroTime: wall-clock time with microsecond precision.
using MicroTime = std::chrono::sys_time<std::chrono::microseconds>;

/// The wall clock, truncated to microseconds.
MicroTime now_micro();
/// MicroTime as Kubernetes writes it: "2026-11-27T10:00:00.000000Z".
std::string format_micro_time(MicroTime t);
/// Time (second precision, as in metadata.creationTimestamp): "2026-11-27T10:00:00Z".
std::string format_time(MicroTime t);
/// Parses RFC 3339: any number of fraction digits (kept to microseconds), and
/// "Z" or a "+hh:mm"/"-hh:mm" offset. nullopt when malformed.
std::optional<MicroTime> parse_time(std::string_view s);

inline constexpr std::string_view api_group = "coordination.k8s.io";
inline constexpr std::string_view api_version = "coordination.k8s.io/v1";
/// "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"
std::string leases_path(std::string_view ns);
/// "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}"
std::string lease_path(std::string_view ns, std::string_view name);

/// The spec fields leader election reads and writes.
struct LeaseSpec {
  std::string holder_identity;  ///< empty: nobody holds the lease (absent or null in JSON)
  std::optional<std::int32_t> lease_duration_seconds;
  std::optional<MicroTime> acquire_time;
  std::optional<MicroTime> renew_time;
  std::int32_t lease_transitions = 0;  ///< absent in JSON reads as 0

  friend bool operator==(const LeaseSpec&, const LeaseSpec&) = default;
};

/// The metadata fields the API server manages.
struct LeaseMeta {
  std::string name;
  std::string namespace_;
  std::string resource_version;
  std::string uid;
  std::string creation_timestamp;
};

struct Lease {
  LeaseMeta metadata;
  LeaseSpec spec;
};

/// The typed view of a Lease JSON object. nullopt (and `why`, if given) when
/// it is not an object or a known field has the wrong type or a bad time.
std::optional<Lease> lease_from_json(const boost::json::value& v, std::string* why = nullptr);
/// Writes `spec`'s fields into `lease["spec"]` (created if missing), leaving
/// every other field of the object as it was. Unset optionals are removed.
void write_spec(boost::json::object& lease, const LeaseSpec& spec);
/// A complete Lease object: apiVersion, kind, metadata (non-empty fields), spec.
boost::json::object to_json(const Lease& lease);

}  // namespace rebound::lease
