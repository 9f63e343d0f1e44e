// The built-in routes every Server answers (user routes added later win):
//   /             a short text
//   /bytes/N      N bytes of the repeating pattern "abc...z" (see pattern_bytes)
//   /delay/MS     a short text, answered MS ms later (timer, never blocking)
//   /status/CODE  that status with a short text (no body for 204 and 304)
//   /echo         text/plain: "METHOD TARGET PROTOCOL\n", one "name: value\n"
//                 per request header (lower-case names; HTTP/2 :authority shown
//                 as host), an empty line, then the request body
#pragma once

#include <cstddef>
#include <string>

#include "router.hpp"

namespace rebound::server::detail {

void add_builtin_routes(Router& router);

/// n bytes where byte i is 'a' + i % 26: what /bytes/N sends, for checks.
std::string pattern_bytes(std::size_t n);

}  // namespace rebound::server::detail
