// default_config(): client-go's DeferredLoadingClientConfig choice between
// the kubeconfig files and the in-cluster service account.
#include <rebound/kube/kubeconfig.hpp>

#include "kubeconfig/loading_rules.hpp"
#include "kubeconfig/select.hpp"

namespace rebound::kube {

RestConfig load_kubeconfig(const KubeconfigOptions& options) {
  const detail::Kubeconfig merged = detail::load_merged(options.path);
  return detail::select(merged, options.context);
}

RestConfig default_config(const KubeconfigOptions& options, const std::string& service_account_dir) {
  const detail::Kubeconfig merged = detail::load_merged(options.path);
  // "No configuration": nothing chooses a context. Then, and only then, a
  // pod's service account is used, as client-go does.
  if (options.context.empty() && merged.current_context.empty() && in_cluster_possible(service_account_dir))
    return in_cluster_config(service_account_dir);
  return detail::select(merged, options.context);
}

}  // namespace rebound::kube
