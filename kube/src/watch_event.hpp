// One line of a watch stream, parsed: an event, a watch ERROR (its Status
// code: 410 means the version left the server's window), or garbage; an
// error answer's Status body; and the comparison of resourceVersions that
// makes delivery exactly-once.
#pragma once

#include <rebound/kube/watcher.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace rebound::kube::detail {

struct WatchError {
  int code = 0;         ///< the Status object's code (410: Expired/Gone)
  std::string message;  ///< its reason and message
  /// The watch asked for a version the server has not reached yet (504
  /// Timeout with cause ResourceVersionTooLarge, or older servers' message).
  bool too_large_resource_version = false;
};
struct BadLine {
  std::string why;
};
using ParsedLine = std::variant<WatchEvent, WatchError, BadLine>;

ParsedLine parse_watch_line(std::string_view line);

/// An error answer's body as a Status object; nullopt when it is not one.
std::optional<WatchError> parse_status_body(std::string_view body);

/// True when `candidate` is provably not newer than `last` (both decimal).
bool not_newer(const std::string& candidate, const std::string& last);

/// The Status reason/message of an error body, or the start of the body.
std::string describe_status_body(int status, const std::string& body);

}  // namespace rebound::kube::detail
