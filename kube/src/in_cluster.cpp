// In-cluster configuration from the service account's files and the
// KUBERNETES_SERVICE_* variables (client-go's rest.InClusterConfig).
#include <rebound/kube/in_cluster.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace rebound::kube {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string read_trimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && blank(s[i])) ++i;
  return s.substr(i);
}

}  // namespace

bool in_cluster_possible(const std::string& dir) {
  struct stat st {};
  const std::string token = dir + "/token";
  return !env("KUBERNETES_SERVICE_HOST").empty() && !env("KUBERNETES_SERVICE_PORT").empty() &&
         ::stat(token.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

RestConfig in_cluster_config(const std::string& dir) {
  const std::string host = env("KUBERNETES_SERVICE_HOST");
  const std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty())
    throw InClusterError("", "", "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  const std::string token_file = dir + "/token";
  const std::string ca_file = dir + "/ca.crt";
  if (::access(token_file.c_str(), R_OK) != 0) throw InClusterError(token_file, "", "cannot read the service-account token");
  if (::access(ca_file.c_str(), R_OK) != 0) throw InClusterError(ca_file, "", "cannot read the cluster's CA certificate");

  RestConfig cfg;
  // An IPv6 service address needs brackets in a URL.
  cfg.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  cfg.tls.ca_file = ca_file;
  cfg.credentials = rebound::credentials::bearer_file(token_file);
  if (auto ns = env("POD_NAMESPACE"); !ns.empty())
    cfg.namespace_ = ns;
  else if (auto file_ns = read_trimmed(dir + "/namespace"); !file_ns.empty())
    cfg.namespace_ = file_ns;
  cfg.origin_description = "in-cluster (" + dir + ")";
  return cfg;
}

}  // namespace rebound::kube
