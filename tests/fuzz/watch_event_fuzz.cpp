// libFuzzer harness for a Kubernetes watch stream's lines, which a server
// (or anything between) controls: any line parses into an event with a
// resourceVersion, a watch ERROR, or a bad line - never a crash or an
// exception; and the resourceVersion order that makes delivery
// exactly-once is a total order on decimal versions and says nothing about
// the rest. The input's first byte splits off two versions to compare.
#include "watch_event.hpp"

#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

using namespace rebound::kube::detail;

namespace {

bool digits_only(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_watch_line(input);
  if (const auto* event = std::get_if<rebound::kube::WatchEvent>(&parsed))
    if (event->resource_version.empty()) std::abort();  // an event is only delivered with its version
  if (size < 2) return 0;
  const std::size_t cut = 1 + data[0] % (size - 1);
  const std::string a(input.substr(1, cut - 1)), b(input.substr(cut));
  const bool ab = not_newer(a, b), ba = not_newer(b, a);
  if (!digits_only(a) || !digits_only(b)) {
    if (ab || ba) std::abort();  // only decimal versions are compared; the rest is never "not newer"
  } else if (a.size() <= 19 && b.size() <= 19) {
    if (!ab && !ba) std::abort();  // two decimal versions are always ordered
    if (ab && ba && std::stoull(a) != std::stoull(b)) std::abort();
  }
  return 0;
}
