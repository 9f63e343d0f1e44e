// ServerRequest's helpers (the struct itself is in the public header).
#include "rebound/server/server.hpp"

namespace rebound::server {

std::string ServerRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

}  // namespace rebound::server
