// Building KUBERNETES_EXEC_INFO and reading the plugin's ExecCredential.
#include "exec/exec_credential_json.hpp"

#include "base64.hpp"
#include "rfc3339.hpp"

#include <boost/json.hpp>

namespace rebound::kube::detail {

std::string exec_info_json(const ExecConfig& config) {
  boost::json::object spec;
  spec["interactive"] = false;
  if (config.cluster) {
    const ExecClusterInfo& c = *config.cluster;
    boost::json::object cluster;
    cluster["server"] = c.server;
    if (!c.tls_server_name.empty()) cluster["tls-server-name"] = c.tls_server_name;
    if (c.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!c.certificate_authority_data.empty())
      cluster["certificate-authority-data"] = base64_encode(c.certificate_authority_data);
    if (!c.config_json.empty()) {
      boost::system::error_code ec;
      auto v = boost::json::parse(c.config_json, ec);
      if (!ec) cluster["config"] = std::move(v);
    }
    spec["cluster"] = std::move(cluster);
  }
  boost::json::object o;
  o["apiVersion"] = config.api_version;
  o["kind"] = "ExecCredential";
  o["spec"] = std::move(spec);
  return boost::json::serialize(o);
}

ExecAnswer parse_exec_answer(std::string_view text, const std::string& api_version) {
  ExecAnswer a;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec) {
    a.error = "its output is not JSON (" + ec.message() + ")";
    return a;
  }
  const auto* o = v.if_object();
  if (!o) {
    a.error = "its output is not a JSON object";
    return a;
  }
  const auto str = [](const boost::json::object& obj, const char* key) -> std::string {
    const auto* p = obj.if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  if (str(*o, "kind") != "ExecCredential") {
    a.error = "its output is not an ExecCredential (kind \"" + str(*o, "kind") + "\")";
    return a;
  }
  if (const std::string got = str(*o, "apiVersion"); got != api_version) {
    a.error = "it answered apiVersion \"" + got + "\", configured for \"" + api_version + "\"";
    return a;
  }
  const auto* status_v = o->if_contains("status");
  const auto* status = status_v ? status_v->if_object() : nullptr;
  if (!status) {
    a.error = "its ExecCredential has no status";
    return a;
  }
  if (!str(*status, "clientCertificateData").empty() || !str(*status, "clientKeyData").empty()) {
    a.error = "it returned a client certificate; rebound supports only tokens from exec plugins";
    return a;
  }
  a.token = str(*status, "token");
  if (a.token.empty()) {
    a.error = "its ExecCredential has no status.token";
    return a;
  }
  if (const auto* exp = status->if_contains("expirationTimestamp"); exp && !exp->is_null()) {
    const auto when = exp->is_string() ? parse_rfc3339(exp->get_string()) : std::nullopt;
    if (!when) {
      a.token.clear();
      a.error = "its status.expirationTimestamp is not an RFC 3339 time";
      return a;
    }
    a.expiry = *when;
  }
  return a;
}

}  // namespace rebound::kube::detail
