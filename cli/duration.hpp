// Parses command-line durations with units: "250ms", "2s", "1.5s", "1m".
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace rebound::cli {

/// Milliseconds, or nullopt when `text` is not a number followed by ms, s or m.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace rebound::cli
