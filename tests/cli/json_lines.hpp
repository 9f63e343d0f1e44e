// The JSON objects a command printed, one per line (`--json` output of
// watch, soak, demo), for the tests that read them.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace rebound::testing {

inline std::vector<boost::json::object> json_lines(const std::string& text) {
  std::vector<boost::json::object> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(boost::json::parse(text.substr(start, end - start)).as_object());
    start = end + 1;
  }
  return lines;
}

}  // namespace rebound::testing
