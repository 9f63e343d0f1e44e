// rebound's version.
#pragma once

#define REBOUND_VERSION_STRING "0.1.0"

namespace rebound {
inline constexpr const char* version = REBOUND_VERSION_STRING;
}
