// Choosing the context and turning its cluster and user into a RestConfig,
// with clientcmd's validation (ConfirmUsable) and rebound's refusals
// (proxies, auth-provider, interactive plugins).
#include "kubeconfig/select.hpp"

#include <rebound/kube/exec_credentials.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace rebound::kube::detail {
namespace {

std::string files_text(const Kubeconfig& c) {
  if (c.files.empty()) return "no kubeconfig file";
  std::string out;
  for (const auto& f : c.files) out += (out.empty() ? "" : ", ") + f;
  return out;
}

// A file the configuration names must be readable now (clientcmd opens it).
void require_readable(const Origin& o, const std::string& field, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0)
    throw o.error(field, "cannot read " + path + ": " + std::strerror(errno));
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Context& choose_context(const Kubeconfig& c, const std::string& name) {
  if (!name.empty()) {
    const auto it = c.contexts.find(name);
    if (it == c.contexts.end()) throw ConfigError(files_text(c), "", "context \"" + name + "\" does not exist");
    return it->second;
  }
  if (c.current_context.empty())
    throw ConfigError(files_text(c), "", "no context chosen: current-context is not set and no context was given");
  const auto it = c.contexts.find(c.current_context);
  if (it == c.contexts.end())
    throw c.current_context_origin.error("", "context \"" + c.current_context + "\" does not exist");
  return it->second;
}

// A server without a scheme: https when TLS is configured, else http
// (client-go's DefaultServerURL).
std::string with_scheme(const Cluster& cl, const User* u) {
  std::string s = cl.server;
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0) return s;
  if (s.find("://") != std::string::npos)
    throw cl.origin.error("cluster.server", "\"" + s + "\": the scheme must be http or https");
  const bool tls = !cl.certificate_authority.empty() || !cl.certificate_authority_data.empty() ||
                   cl.insecure_skip_tls_verify ||
                   (u && (!u->client_certificate.empty() || !u->client_certificate_data.empty()));
  return (tls ? "https://" : "http://") + s;
}

void apply_cluster(const Cluster& cl, RestConfig& out) {
  const Origin& o = cl.origin;
  if (!cl.proxy_url.empty()) {
    // client-go takes http, https and socks5; its socks5 dialer sends the
    // name to the proxy (remote resolution), which is rebound's socks5h.
    const std::string& p = cl.proxy_url;
    if (p.rfind("http://", 0) == 0) out.proxy_url = p;
    else if (p.rfind("socks5://", 0) == 0) out.proxy_url = "socks5h://" + p.substr(9);
    else if (p.rfind("https://", 0) == 0)
      throw o.error("cluster.proxy-url", "https:// proxies are not supported yet (http:// and socks5:// are)");
    else
      throw o.error("cluster.proxy-url", "the scheme must be http, https or socks5");
  }
  if (!cl.certificate_authority.empty() && !cl.certificate_authority_data.empty())
    throw o.error("cluster.certificate-authority-data", "certificate-authority and certificate-authority-data are both set");
  if (cl.insecure_skip_tls_verify && (!cl.certificate_authority.empty() || !cl.certificate_authority_data.empty()))
    throw o.error("cluster.insecure-skip-tls-verify", "set together with a certificate authority: choose one");
  if (!cl.certificate_authority.empty()) require_readable(o, "cluster.certificate-authority", cl.certificate_authority);
  out.tls.verify_peer = !cl.insecure_skip_tls_verify;
  out.tls.ca_file = cl.certificate_authority;
  out.tls.ca_pem = cl.certificate_authority_data;
  out.tls.sni = cl.tls_server_name;
}

void apply_client_certificate(const User& u, RestConfig& out) {
  const Origin& o = u.origin;
  const bool cert = !u.client_certificate.empty() || !u.client_certificate_data.empty();
  const bool key = !u.client_key.empty() || !u.client_key_data.empty();
  if (!u.client_certificate.empty() && !u.client_certificate_data.empty())
    throw o.error("user.client-certificate-data", "client-certificate and client-certificate-data are both set");
  if (!u.client_key.empty() && !u.client_key_data.empty())
    throw o.error("user.client-key-data", "client-key and client-key-data are both set");
  if (cert && !key) throw o.error("user.client-certificate", "a client certificate needs client-key or client-key-data");
  if (key && !cert) throw o.error("user.client-key", "a client key needs client-certificate or client-certificate-data");
  if (!cert) return;
  if (!u.client_certificate.empty()) require_readable(o, "user.client-certificate", u.client_certificate);
  if (!u.client_key.empty()) require_readable(o, "user.client-key", u.client_key);
  out.tls.cert_file = u.client_certificate;
  out.tls.cert_pem = u.client_certificate_data;
  out.tls.key_file = u.client_key;
  out.tls.key_pem = u.client_key_data;
}

std::shared_ptr<rebound::CredentialSource> exec_source(const User& u, const Cluster& cl, const std::string& server) {
  const ExecEntry& e = *u.exec;
  const Origin& o = u.origin;
  if (e.command.empty()) throw o.error("user.exec.command", "missing: an exec plugin needs a command");
  if (e.api_version != "client.authentication.k8s.io/v1" && e.api_version != "client.authentication.k8s.io/v1beta1")
    throw o.error("user.exec.apiVersion",
                  e.api_version.empty() ? "missing: client.authentication.k8s.io/v1 or v1beta1"
                                        : "\"" + e.api_version + "\" is not supported (client.authentication.k8s.io/v1 or v1beta1)");
  // clientcmd's defaulting: v1beta1 assumes IfAvailable; v1 must say.
  std::string mode = e.interactive_mode;
  if (mode.empty() && e.api_version == "client.authentication.k8s.io/v1beta1") mode = "IfAvailable";
  if (mode.empty())
    throw o.error("user.exec.interactiveMode",
                  "missing: client.authentication.k8s.io/v1 requires Never, IfAvailable or Always "
                  "(kubectl config set-credentials --exec-interactive-mode=Never)");
  if (mode == "Always")
    throw o.error("user.exec.interactiveMode", "Always is not supported: rebound runs exec plugins without a terminal");
  if (mode != "Never" && mode != "IfAvailable")
    throw o.error("user.exec.interactiveMode", "\"" + mode + "\" is not one of Never, IfAvailable, Always");

  ExecConfig x;
  x.command = e.command;
  x.args = e.args;
  x.env = e.env;
  x.api_version = e.api_version;
  x.install_hint = e.install_hint;
  if (e.provide_cluster_info) {
    ExecClusterInfo info;
    info.server = server;
    info.tls_server_name = cl.tls_server_name;
    info.insecure_skip_tls_verify = cl.insecure_skip_tls_verify;
    info.certificate_authority_data =
        cl.certificate_authority.empty() ? cl.certificate_authority_data : read_all(cl.certificate_authority);
    info.config_json = cl.exec_extension_json;
    x.cluster = std::move(info);
  }
  return exec_credentials(std::move(x));
}

void apply_user_credentials(const User& u, const Cluster& cl, RestConfig& out) {
  const Origin& o = u.origin;
  if (u.auth_provider)
    throw o.error("user.auth-provider", "auth-provider plugins are not supported: use an exec plugin instead");
  std::vector<std::string> methods;
  if (!u.token.empty() || !u.token_file.empty()) methods.push_back("token");
  if (!u.username.empty() || !u.password.empty()) methods.push_back("basic auth");
  if (u.exec) methods.push_back("exec");
  if (methods.size() > 1) {
    std::string list;
    for (const auto& m : methods) list += (list.empty() ? "" : ", ") + m;
    throw o.error("user", "more than one authentication method (" + list + "): only one is allowed");
  }
  // tokenFile wins over token, as in client-go's transport: the file is
  // re-read every minute and is what stays current.
  if (!u.token_file.empty()) {
    require_readable(o, "user.tokenFile", u.token_file);
    out.credentials = rebound::credentials::bearer_file(u.token_file);
  } else if (!u.token.empty()) {
    out.credentials = rebound::credentials::bearer(u.token);
  } else if (!u.username.empty() || !u.password.empty()) {
    out.credentials = rebound::credentials::basic(u.username, u.password);
  } else if (u.exec) {
    out.credentials = exec_source(u, cl, out.server);
  }
}

}  // namespace

RestConfig select(const Kubeconfig& c, const std::string& context_name) {
  const Context& ctx = choose_context(c, context_name);
  const std::string chosen = context_name.empty() ? c.current_context : context_name;
  const auto cl = c.clusters.find(ctx.cluster);
  if (ctx.cluster.empty()) throw ctx.origin.error("context.cluster", "missing: the context names no cluster");
  if (cl == c.clusters.end())
    throw ctx.origin.error("context.cluster", "cluster \"" + ctx.cluster + "\" does not exist");
  const User* user = nullptr;
  if (!ctx.user.empty()) {
    const auto u = c.users.find(ctx.user);
    if (u == c.users.end()) throw ctx.origin.error("context.user", "user \"" + ctx.user + "\" does not exist");
    user = &u->second;
  }
  const Cluster& cluster = cl->second;
  if (cluster.server.empty()) throw cluster.origin.error("cluster.server", "missing: the cluster has no server");

  RestConfig out;
  out.server = with_scheme(cluster, user);
  out.namespace_ = ctx.namespace_.empty() ? "default" : ctx.namespace_;
  out.origin_description = "kubeconfig " + ctx.origin.file + ", context " + chosen;
  apply_cluster(cluster, out);
  // As client-go: a user's credentials and certificate only go over TLS.
  if (user && out.server.rfind("https://", 0) == 0) {
    apply_client_certificate(*user, out);
    apply_user_credentials(*user, cluster, out);
    out.impersonate = {user->as, user->as_uid, user->as_groups, user->as_user_extra};
  }
  return out;
}

}  // namespace rebound::kube::detail
