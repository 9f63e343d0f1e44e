// Duration parsing for command-line options.
#include "duration.hpp"

#include <charconv>
#include <cmath>

namespace rebound::cli {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.'))
    ++unit_at;
  if (unit_at == 0) return std::nullopt;
  double value = 0;
  try {
    value = std::stod(text.substr(0, unit_at));
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = text.substr(unit_at);
  double ms = 0;
  if (unit == "ms") ms = value;
  else if (unit == "s") ms = value * 1000;
  else if (unit == "m") ms = value * 60000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

}  // namespace rebound::cli
