// RestConfig: where a Kubernetes API server is and how to talk to it (its
// URL, TLS trust, client certificate, credentials, default namespace), as
// loaded from a kubeconfig file or the in-cluster service account; and
// ConfigError, what every loader throws when it cannot produce one.
//
//     auto cfg = rebound::kube::default_config();        // kubectl's rules
//     rebound::Options o;
//     cfg.apply_to(o);
//     rebound::Client client(o);
//     auto r = client.get(cfg.url("/api/v1/namespaces/" + cfg.namespace_ + "/pods"));
//
// Thread safety: RestConfig is a value; its credential source is shared
// and thread-safe (rebound::CredentialSource's contract).
#pragma once

#include <rebound/credentials.hpp>
#include <rebound/options.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rebound::kube {

/// Acting as another user (kubeconfig's as, as-uid, as-groups,
/// as-user-extra; client-go's ImpersonationConfig): sent with the
/// credentials, to the server's origin only, as Impersonate-User,
/// Impersonate-Uid, one Impersonate-Group per group and one
/// Impersonate-Extra-<key> per value (the key percent-encoded where a
/// header name could not carry it).
struct Impersonation {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  std::vector<std::pair<std::string, std::vector<std::string>>> extra;
  bool empty() const noexcept { return user.empty() && uid.empty() && groups.empty() && extra.empty(); }
};

struct RestConfig {
  /// The API server: "https://host:port", possibly with a path prefix
  /// ("https://host/k8s"); never a trailing '/'.
  std::string server;
  /// The context's namespace (kubeconfig), or the pod's (in-cluster).
  std::string namespace_ = "default";
  /// CA (file or PEM), insecure-skip-tls-verify, tls-server-name, client
  /// certificate and key (files or PEM).
  rebound::TlsOptions tls;
  /// The cluster's proxy-url as rebound::ProxyOptions::url takes it (a
  /// kubeconfig's socks5:// becomes socks5h://: client-go lets the proxy
  /// resolve the name); empty: the environment decides, as in client-go.
  std::string proxy_url;
  /// The user's credentials (bearer token, token file, basic auth, exec
  /// plugin); null when the user has none (client certificate only, or
  /// anonymous).
  std::shared_ptr<rebound::CredentialSource> credentials;
  /// Whom the requests act as (empty: the credentials' own user).
  Impersonation impersonate;
  /// Where this came from, for messages: "kubeconfig /x/config, context c"
  /// or "in-cluster (/var/run/secrets/kubernetes.io/serviceaccount)".
  /// Never contains credentials.
  std::string origin_description;

  /// Sets options.tls to `tls`, options.proxy.url to proxy_url when set, and options.credentials to {credentials,
  /// server} (cleared when there are neither credentials nor
  /// impersonation): the credentials, and the impersonation headers beside
  /// them, go to this server's origin only. Other options are left alone.
  void apply_to(rebound::Options& options) const;

  /// A URL on this server: an absolute "http(s)://..." is returned as it
  /// is; anything else is a path ("/apis/...", or "api/v1" taken as
  /// "/api/v1") appended to `server`, prefix included.
  std::string url(std::string_view path_or_url) const;
};

/// A configuration that cannot be used: what() is one line naming the file
/// (and line, when known), the key path and what is wrong, e.g.
/// "/tmp/k/config:14: users[1].user.client-certificate-data: not valid base64".
/// Never contains credential values.
class ConfigError : public std::runtime_error {
 public:
  /// `file` and `key` may be empty; `line` is 1-based, 0 when unknown.
  ConfigError(std::string file, std::string key, const std::string& message, int line = 0);
  const std::string& file() const noexcept { return file_; }
  /// The key path within the file ("users[1].user.token"), or "" for the file as a whole.
  const std::string& key() const noexcept { return key_; }
  int line() const noexcept { return line_; }

 private:
  std::string file_;
  std::string key_;
  int line_;
};

}  // namespace rebound::kube
