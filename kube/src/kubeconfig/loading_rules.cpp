// The loading rules: which files, read in order and merged.
#include "kubeconfig/loading_rules.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace rebound::kube::detail {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Kubeconfig read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) throw ConfigError(path, "", "is a directory, not a kubeconfig file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", std::string("cannot be read: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_kubeconfig(path, ss.str());
}

}  // namespace

std::vector<std::string> kubeconfig_files(const std::string& explicit_path) {
  if (!explicit_path.empty()) return {explicit_path};
  std::vector<std::string> files;
  if (const std::string list = env("KUBECONFIG"); !list.empty()) {
    std::set<std::string> seen;
    std::size_t start = 0;
    while (start <= list.size()) {
      auto end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string f = list.substr(start, end - start);
      if (!f.empty() && seen.insert(f).second) files.push_back(std::move(f));
      start = end + 1;
    }
    return files;
  }
  if (const std::string home = env("HOME"); !home.empty()) files.push_back(home + "/.kube/config");
  return files;
}

Kubeconfig load_merged(const std::string& explicit_path) {
  if (!explicit_path.empty() && !exists(explicit_path))
    throw ConfigError(explicit_path, "", "does not exist (given as the kubeconfig file)");
  Kubeconfig merged;
  for (const auto& f : kubeconfig_files(explicit_path)) {
    if (!exists(f)) continue;  // clientcmd skips missing files of the list
    merge_into(merged, read_file(f));
  }
  return merged;
}

}  // namespace rebound::kube::detail
