// Loading a RestConfig from kubeconfig files with kubectl's (client-go's
// clientcmd) rules, and client-go's default choice between kubeconfig and
// in-cluster configuration.
//
// Which files (ClientConfigLoadingRules):
//   * an explicit path (kubectl --kubeconfig): that file alone; it must exist;
//   * else the KUBECONFIG variable, a ':'-separated list (empty entries and
//     repeats dropped), merged in order; files that do not exist are
//     skipped; a file that exists but cannot be read or parsed is an error;
//   * else ~/.kube/config ($HOME), skipped when missing.
// Merging: clusters, users and contexts are maps by name and the first file
// that names a key wins it whole (a later file's entry of the same name is
// ignored, even its other fields); current-context comes from the first
// file that sets it. A name twice in one file is an error.
// Relative paths (certificate-authority, client-certificate, client-key,
// tokenFile, and an exec command containing '/') are resolved against the
// directory of the file that named them.
//
// Which context: `context` if given (it must exist), else current-context.
// Its cluster and user must exist (client-go quietly uses an empty user
// instead; rebound says so, since sending requests without the intended
// credentials only moves the error to a 401). The cluster needs a server.
// Cluster fields: server, certificate-authority(-data),
// insecure-skip-tls-verify, tls-server-name, proxy-url (http:// or
// socks5://, the latter resolving names at the proxy as client-go does;
// https:// proxies are an error for now). User fields: client-certificate(-data),
// client-key(-data), token, tokenFile (re-read every minute), username and
// password, exec (see exec_credentials.hpp); auth-provider is an error.
// As in client-go: a server without a scheme is https when the cluster
// or user has TLS settings, else http; the user's credentials and client
// certificate are used only with an https server; token and username/
// password, or either with exec, are "more than one authentication method";
// data and file forms of one field together are an error.
//
// Errors: ConfigError naming file, line and key path (see rest_config.hpp).
// Thread safety: reads the environment (KUBECONFIG, HOME, and for
// default_config KUBERNETES_SERVICE_*); do not call while another thread
// changes it.
#pragma once

#include <rebound/kube/in_cluster.hpp>
#include <rebound/kube/rest_config.hpp>

#include <string>

namespace rebound::kube {

struct KubeconfigOptions {
  /// kubectl --kubeconfig: load this file alone (it must exist).
  std::string path;
  /// kubectl --context: use this context instead of current-context.
  std::string context;
};

/// The RestConfig of the chosen context. Throws ConfigError.
RestConfig load_kubeconfig(const KubeconfigOptions& options = {});

/// client-go's default (DeferredLoadingClientConfig): loads the kubeconfig
/// files as load_kubeconfig() does; when that yields no configuration at
/// all - no context is chosen (no `context`, no current-context in any
/// file, which includes "no file") - and in_cluster_possible() holds, the
/// in-cluster configuration instead. Anything else the kubeconfig gets
/// wrong is reported, not papered over with in-cluster config. (client-go
/// also falls back when the chosen context's cluster is missing or has no
/// server; rebound reports that broken kubeconfig instead.)
/// Throws ConfigError (kubeconfig) or InClusterError.
RestConfig default_config(const KubeconfigOptions& options = {},
                          const std::string& service_account_dir = default_service_account_dir);

}  // namespace rebound::kube
