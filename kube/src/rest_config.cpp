// RestConfig's two operations: onto rebound::Options, and URLs on the server.
#include <rebound/kube/rest_config.hpp>

#include "impersonation.hpp"

namespace rebound::kube {

void RestConfig::apply_to(rebound::Options& options) const {
  options.tls = tls;
  if (!proxy_url.empty()) options.proxy.url = proxy_url;
  if (!impersonate.empty())
    options.credentials = rebound::CredentialOptions{detail::impersonating(credentials, impersonate), server};
  else if (credentials)
    options.credentials = rebound::CredentialOptions{credentials, server};
  else
    options.credentials = {};
}

std::string RestConfig::url(std::string_view path_or_url) const {
  if (path_or_url.rfind("http://", 0) == 0 || path_or_url.rfind("https://", 0) == 0) return std::string(path_or_url);
  std::string out = server;
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (path_or_url.empty() || path_or_url.front() != '/') out += '/';
  out += path_or_url;
  return out;
}

}  // namespace rebound::kube
