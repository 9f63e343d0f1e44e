// The MicroTime fields of a write (spec.acquireTime, spec.renewTime) as
// kube-apiserver takes them: decoded as RFC3339Micro
// ("2006-01-02T15:04:05.000000Z07:00": exactly six fraction digits, "Z" or a
// "+hh:mm"/"-hh:mm" offset), anything else failing the decoding, and stored
// in UTC with "Z" and six digits. The lenient parse_time (lease.hpp) stays
// what the client reads answers with.
#pragma once

#include <rebound/lease/lease.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace rebound::lease::detail {

/// RFC3339Micro only; nullopt for anything else (another number of fraction
/// digits, lower-case "t"/"z", a leap second, no zone, a day that does not exist).
std::optional<MicroTime> parse_micro_time_strict(std::string_view s);

/// Checks the spec's MicroTime fields of a Lease object being written and
/// rewrites them in UTC ("Z", six digits). "" when they are fine (or absent,
/// or null), else why not, naming the field.
std::string normalise_write_times(boost::json::object& lease);

}  // namespace rebound::lease::detail
