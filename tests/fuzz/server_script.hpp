// How a connection harness reads its input: what the client asks and how the
// server's bytes arrive. Layout:
//
//   byte 0      control: bits 0-1 request kind, bits 2-3 request count - 1,
//               bits 4-5 chunk size, bits 6-7 how the input ends
//   bytes 1..   the server's bytes, split into flights by "~~flight~~"
//
// A seed is therefore one control byte followed by a capture. Between
// flights the harness lets the connection settle and submits the next
// request if the connection can take one (HTTP/1.1 keep-alive reuse); a
// flight is written in chunks of the chosen size (whole; 1 byte, for its
// first 256 bytes; 7; 100), settling after each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace rebound::fuzz {

enum class RequestKind : std::uint8_t {
  get,
  head,
  post_large,  ///< a body beyond HTTP/2's initial window, so flow control matters
  get_streamed,  ///< the body goes to a sink instead of the Response
};

enum class Ending : std::uint8_t {
  eof,          ///< the server closes its side after the last flight
  local_close,  ///< the client closes the connection (Connection::close)
  shutdown,     ///< the client shuts it down gracefully, then the server closes
  abandon,      ///< the first request is cancelled after the first flight; then EOF
};

inline constexpr std::string_view flight_separator = "~~flight~~";

struct ServerScript {
  RequestKind kind = RequestKind::get;
  int requests = 1;
  std::size_t chunk = 0;  ///< 0: a flight in one write
  Ending ending = Ending::eof;
  std::vector<std::string_view> flights;
};

inline ServerScript parse_script(const std::uint8_t* data, std::size_t size) {
  ServerScript s;
  if (size == 0) return s;
  const std::uint8_t c = data[0];
  s.kind = static_cast<RequestKind>(c & 3);
  s.requests = 1 + ((c >> 2) & 3);
  static constexpr std::size_t chunks[] = {0, 1, 7, 100};
  s.chunk = chunks[(c >> 4) & 3];
  s.ending = static_cast<Ending>((c >> 6) & 3);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  for (;;) {
    const auto at = rest.find(flight_separator);
    s.flights.push_back(rest.substr(0, at));
    if (at == std::string_view::npos) break;
    rest.remove_prefix(at + flight_separator.size());
  }
  return s;
}

}  // namespace rebound::fuzz
