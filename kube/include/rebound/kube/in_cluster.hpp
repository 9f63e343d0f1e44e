// In-cluster configuration: a pod's service account (token, CA, namespace)
// and the API server's address from KUBERNETES_SERVICE_HOST and _PORT, as
// client-go's rest.InClusterConfig reads them.
//
// Errors: InClusterError (a ConfigError) when not in a cluster or a file is
// missing. Thread safety: reads the environment; do not call while another
// thread changes it.
#pragma once

#include <rebound/kube/rest_config.hpp>

#include <string>

namespace rebound::kube {

inline constexpr const char* default_service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

class InClusterError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

/// server: "https://" + KUBERNETES_SERVICE_HOST (bracketed when IPv6) + ":"
/// + KUBERNETES_SERVICE_PORT; tls.ca_file: <dir>/ca.crt; credentials: a
/// bearer token read from <dir>/token and re-read every minute (rotated
/// tokens); namespace_: POD_NAMESPACE if set (client-go's downward-API
/// convention), else <dir>/namespace, else "default". Throws
/// InClusterError when the variables are unset or the token or CA cannot
/// be read.
RestConfig in_cluster_config(const std::string& service_account_dir = default_service_account_dir);

/// client-go's "possible": both variables set and <dir>/token is a file.
bool in_cluster_possible(const std::string& service_account_dir = default_service_account_dir);

}  // namespace rebound::kube
