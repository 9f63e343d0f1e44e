// From a merged kubeconfig to one RestConfig: the context, its cluster and
// user, their validation (clientcmd's ConfirmUsable) and their meaning.
#pragma once

#include "kubeconfig/model.hpp"

namespace rebound::kube::detail {

/// `context` ("" for current-context). Throws ConfigError.
RestConfig select(const Kubeconfig& config, const std::string& context);

}  // namespace rebound::kube::detail
