// MicroTime fields of a write: see write_times.hpp.
#include "write_times.hpp"

#include <boost/json/string.hpp>

namespace rebound::lease::detail {

namespace {

// The fields of a Lease's spec that are MicroTime.
constexpr const char* micro_time_fields[] = {"acquireTime", "renewTime"};

// The character classes of "2006-01-02T15:04:05.000000": 'd' a digit, any
// other character itself.
constexpr std::string_view micro_shape = "dddd-dd-ddTdd:dd:dd.dddddd";

bool matches(std::string_view s, std::string_view shape) {
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<MicroTime> parse_micro_time_strict(std::string_view s) {
  if (s.size() < micro_shape.size() || !matches(s.substr(0, micro_shape.size()), micro_shape)) return std::nullopt;
  const auto zone = s.substr(micro_shape.size());
  if (zone != "Z" && !((zone.starts_with('+') || zone.starts_with('-')) && matches(zone.substr(1), "dd:dd")))
    return std::nullopt;
  // Go's time.Parse allows no leap second; parse_time would read one as the
  // next second's start.
  if (s[17] > '5') return std::nullopt;
  // The shape is right: the lenient parser does the calendar (days that
  // exist, hours below 24, offsets) and the arithmetic.
  return parse_time(s);
}

std::string normalise_write_times(boost::json::object& lease) {
  auto* spec = lease.if_contains("spec");
  if (!spec || !spec->is_object()) return {};
  for (const char* field : micro_time_fields) {
    auto* v = spec->get_object().if_contains(field);
    // Absent and null are "unset"; a value of another type is for the
    // decoder's own message.
    if (!v || !v->is_string()) continue;
    const auto t = parse_micro_time_strict(v->get_string());
    if (!t)
      return "spec." + std::string(field) + ": parsing time \"" + std::string(v->get_string()) +
             "\" as \"2006-01-02T15:04:05.000000Z07:00\" (RFC3339Micro: six fraction digits) failed";
    *v = format_micro_time(*t);
  }
  return {};
}

}  // namespace rebound::lease::detail
