// RFC 3339 timestamps as Kubernetes writes them (metav1.Time):
// "2024-05-01T12:00:00Z", fractional seconds and numeric offsets accepted.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace rebound::kube::detail {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace rebound::kube::detail
