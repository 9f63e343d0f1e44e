// libFuzzer harness for a kubeconfig file, text that users and the tools
// that write kubeconfigs control: any text parses into a Kubeconfig or is
// refused with a ConfigError naming the file (and the key: a yaml-cpp
// exception caught by parse_kubeconfig's net is a shape read unchecked) -
// never a crash, a hang or another exception - and a parsed file merged after itself changes nothing, as
// clientcmd's "the first file to name a key wins" says.
#include "kubeconfig/model.hpp"

#include <cstdlib>
#include <string>
#include <string_view>

using namespace rebound::kube;
using namespace rebound::kube::detail;

namespace {

const std::string kPath = "/fuzz/kubeconfig";

template <class Map>
bool same_names(const Map& a, const Map& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
    if (ia->first != ib->first) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Kubeconfig cfg;
  try {
    cfg = parse_kubeconfig(kPath, text);
  } catch (const ConfigError& e) {
    if (e.file() != kPath) std::abort();  // every refusal names the file
    // parse_kubeconfig's net for a yaml-cpp exception: it keeps the caller
    // safe, but it means a shape was read before it was checked, and the
    // error names no key.
    // (Other refusals may quote the input, which may say anything: only
    // the net's refusal, the one without a key, counts.)
    if (e.key().empty() && std::string_view(e.what()).find(": unexpected structure: ") != std::string_view::npos)
      std::abort();
    return 0;
  }
  if (cfg.files.size() != 1 || cfg.files.front() != kPath) std::abort();
  Kubeconfig merged = cfg;
  merge_into(merged, parse_kubeconfig(kPath, text));  // the same text parses the same way again
  if (merged.current_context != cfg.current_context || !same_names(merged.clusters, cfg.clusters) ||
      !same_names(merged.users, cfg.users) || !same_names(merged.contexts, cfg.contexts))
    std::abort();
  for (const auto& [name, user] : merged.users)
    if (user.token != cfg.users.at(name).token) std::abort();  // the first file's entry won whole
  return 0;
}
