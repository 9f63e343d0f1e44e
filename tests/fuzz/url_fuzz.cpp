// libFuzzer harness for URL parsing: any input either parses into a URL whose
// parts are consistent, or fails with invalid_url/unsupported_scheme.
#include <rebound/url.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = rebound::parse_url(text);
  if (!url) {
    const auto code = url.error().code();  // error() returns a copy
    if (code != rebound::errc::invalid_url && code != rebound::errc::unsupported_scheme) std::abort();
    return 0;
  }
  if (url->host().empty() || url->port() == 0 || url->target().empty() || url->target()[0] != '/') std::abort();
  // Re-parsing the normal form gives the same origin and target.
  auto again = rebound::parse_url(url->str());
  if (!again || again->origin() != url->origin() || again->target() != url->target()) std::abort();
  return 0;
}
