// The exec credential plugin (client.authentication.k8s.io/v1 and v1beta1
// ExecCredential): a CredentialSource that runs a command for a bearer
// token, as kubectl does for cloud providers (aws eks get-token,
// gke-gcloud-auth-plugin, kubelogin...).
//
// Each run: the command with `args`, in its own process group, in an
// environment of this process's (as it was when the source was made) plus
// `env` (same names replaced) plus KUBERNETES_EXEC_INFO = an
// ExecCredential JSON object {apiVersion, kind, spec: {interactive: false,
// cluster (only with provide_cluster_info)}}; stdin is /dev/null (no
// terminal: interactiveMode Always is refused by the kubeconfig loader);
// stdout must be an ExecCredential of the same apiVersion with
// status.token; status.expirationTimestamp (RFC 3339), when present, bounds
// how long the token is cached (used while now < expiry, as client-go;
// a time past 2262 counts as never).
// Without it the token is cached until the server rejects it.
// status.clientCertificateData/KeyData: not supported (the Client's TLS
// material is fixed when it starts); a plugin returning them fails with
// credentials_failed saying so.
//
// Behaviour: fetch() never runs the plugin on the caller's thread: a valid
// cached token is returned inline; otherwise one run starts on a thread of
// its own and every fetch arriving meanwhile waits for that same run. A
// fetch with `rejected` equal to the cached token (after a 401) runs the
// plugin again; a rejected token that is no longer the cached one gets the
// cached one. A run is killed (its process group, SIGKILL) after `timeout`.
// Errors: credentials_failed, where() naming the command and the reason:
// not found (with install_hint), exit status or signal with the last line
// of its stderr, timeout, output not JSON or not an ExecCredential of the
// configured apiVersion, no token. Never the token or the output. A failed
// run is not cached: the next fetch runs again. The plugin's stderr is
// captured for errors, not forwarded.
// Thread safety: fetch() may be called from any thread. Destroying the
// source kills a run in flight; its waiters get credentials_failed.
#pragma once

#include <rebound/credentials.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rebound::kube {

/// The cluster as sent in spec.cluster (provideClusterInfo).
struct ExecClusterInfo {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string certificate_authority_data;  ///< PEM bytes (sent base64-encoded)
  /// The cluster's "client.authentication.k8s.io/exec" extension, as JSON text ("" when none).
  std::string config_json;
};

struct ExecConfig {
  /// A path, or a name looked up in PATH.
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  /// "client.authentication.k8s.io/v1" or ".../v1beta1".
  std::string api_version = "client.authentication.k8s.io/v1";
  /// Shown when the command is not found.
  std::string install_hint;
  std::optional<ExecClusterInfo> cluster;  ///< set: provideClusterInfo
  /// A run that has not finished by then is killed and fails.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  /// The wall clock expirationTimestamp is compared with (tests pass their own).
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// Throws std::invalid_argument for an empty command or an unsupported api_version.
std::shared_ptr<rebound::CredentialSource> exec_credentials(ExecConfig config);

}  // namespace rebound::kube
