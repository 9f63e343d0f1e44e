// One kubeconfig file: YAML to the model, every value checked for its type
// and named by its key path and line when it is wrong.
#include "kubeconfig/model.hpp"

#include "base64.hpp"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

namespace rebound::kube::detail {
namespace {

int line_of(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

// Reads values of one file, throwing ConfigError with the key path.
class Reader {
 public:
  Reader(std::string file, std::filesystem::path base_dir) : file_(std::move(file)), base_(std::move(base_dir)) {}

  [[noreturn]] void fail(const std::string& key, const YAML::Node& at, const std::string& message) const {
    throw ConfigError(file_, key, message, line_of(at));
  }

  std::string scalar(const YAML::Node& n, const std::string& key) const {
    if (!n || n.IsNull()) return {};
    if (!n.IsScalar()) fail(key, n, "expected a string");
    return n.Scalar();
  }

  bool boolean(const YAML::Node& n, const std::string& key) const {
    if (!n || n.IsNull()) return false;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) fail(key, n, "expected true or false");
    return v;
  }

  // The entries of a list (null or missing: none).
  std::vector<YAML::Node> list(const YAML::Node& n, const std::string& key) const {
    if (!n || n.IsNull()) return {};
    if (!n.IsSequence()) fail(key, n, "expected a list");
    return {n.begin(), n.end()};
  }

  void mapping(const YAML::Node& n, const std::string& key) const {
    if (n && !n.IsNull() && !n.IsMap()) fail(key, n, "expected a mapping");
  }

  std::string base64(const YAML::Node& n, const std::string& key) const {
    const std::string text = scalar(n, key);
    if (text.empty()) return {};
    auto decoded = base64_decode(text);
    if (!decoded) fail(key, n, "not valid base64");
    return *decoded;
  }

  // clientcmd: relative paths are relative to the file's directory.
  std::string path(const YAML::Node& n, const std::string& key) const {
    const std::string p = scalar(n, key);
    if (p.empty() || p.front() == '/') return p;
    return (base_ / p).lexically_normal().string();
  }

  // Remembers the line of `field` for later errors (in select).
  void note(Origin& o, const YAML::Node& parent, const std::string& field, const std::string& name) const {
    if (const YAML::Node n = parent[name]; n) o.field_lines[field] = line_of(n);
  }

  const std::string& file() const { return file_; }
  const std::filesystem::path& base() const { return base_; }

 private:
  std::string file_;
  std::filesystem::path base_;
};

// A YAML value as JSON (the exec extension goes to the plugin as JSON).
boost::json::value to_json(const YAML::Node& n) {
  if (!n || n.IsNull()) return nullptr;
  if (n.IsSequence()) {
    boost::json::array a;
    for (const auto& item : n) a.push_back(to_json(item));
    return a;
  }
  if (n.IsMap()) {
    boost::json::object o;
    for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second);
    return o;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() == "?") {  // plain scalar: YAML's own types
    bool b;
    if (YAML::convert<bool>::decode(n, b) && (s == "true" || s == "false")) return b;
    long long i;
    if (YAML::convert<long long>::decode(n, i)) return i;
    double d;
    if (YAML::convert<double>::decode(n, d)) return d;
  }
  return boost::json::string(s);
}

Origin origin_of(const Reader& r, const std::string& key, const YAML::Node& item) {
  Origin o;
  o.file = r.file();
  o.key = key;
  o.line = line_of(item);
  return o;
}

// The entry's name, checked for presence and uniqueness in its list.
std::string entry_name(const Reader& r, const YAML::Node& item, const std::string& key, std::set<std::string>& seen) {
  r.mapping(item, key);
  const std::string name = r.scalar(item["name"], key + ".name");
  if (name.empty()) r.fail(key + ".name", item, "missing: every entry needs a name");
  if (!seen.insert(name).second) r.fail(key + ".name", item["name"], "duplicate name \"" + name + "\" in this list");
  return name;
}

Cluster read_cluster(const Reader& r, const YAML::Node& item, const std::string& key) {
  Cluster c;
  c.origin = origin_of(r, key, item);
  const YAML::Node body = item["cluster"];
  const std::string k = key + ".cluster";
  r.mapping(body, k);
  if (!body) return c;
  for (const char* f : {"server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
                        "tls-server-name", "proxy-url"})
    r.note(c.origin, body, std::string("cluster.") + f, f);
  c.server = r.scalar(body["server"], k + ".server");
  c.certificate_authority = r.path(body["certificate-authority"], k + ".certificate-authority");
  c.certificate_authority_data = r.base64(body["certificate-authority-data"], k + ".certificate-authority-data");
  c.insecure_skip_tls_verify = r.boolean(body["insecure-skip-tls-verify"], k + ".insecure-skip-tls-verify");
  c.tls_server_name = r.scalar(body["tls-server-name"], k + ".tls-server-name");
  c.proxy_url = r.scalar(body["proxy-url"], k + ".proxy-url");
  const auto extensions = r.list(body["extensions"], k + ".extensions");
  for (std::size_t i = 0; i < extensions.size(); ++i) {
    const std::string ek = k + ".extensions[" + std::to_string(i) + "]";
    r.mapping(extensions[i], ek);
    if (r.scalar(extensions[i]["name"], ek + ".name") == "client.authentication.k8s.io/exec")
      c.exec_extension_json = boost::json::serialize(to_json(extensions[i]["extension"]));
  }
  return c;
}

ExecEntry read_exec(const Reader& r, const YAML::Node& n, const std::string& k) {
  r.mapping(n, k);
  ExecEntry e;
  const auto bin = r.scalar(n["command"], k + ".command");
  // A command with a '/' is a path, relative to this file; a bare name is
  // looked up in PATH when run.
  e.command = bin.find('/') != std::string::npos ? r.path(n["command"], k + ".command") : bin;
  const auto args = r.list(n["args"], k + ".args");
  for (std::size_t i = 0; i < args.size(); ++i) e.args.push_back(r.scalar(args[i], k + ".args[" + std::to_string(i) + "]"));
  const auto env = r.list(n["env"], k + ".env");
  for (std::size_t i = 0; i < env.size(); ++i) {
    const std::string ek = k + ".env[" + std::to_string(i) + "]";
    r.mapping(env[i], ek);
    const std::string name = r.scalar(env[i]["name"], ek + ".name");
    if (name.empty()) r.fail(ek + ".name", env[i], "missing: an environment variable needs a name");
    e.env.emplace_back(name, r.scalar(env[i]["value"], ek + ".value"));
  }
  e.api_version = r.scalar(n["apiVersion"], k + ".apiVersion");
  e.install_hint = r.scalar(n["installHint"], k + ".installHint");
  e.provide_cluster_info = r.boolean(n["provideClusterInfo"], k + ".provideClusterInfo");
  e.interactive_mode = r.scalar(n["interactiveMode"], k + ".interactiveMode");
  return e;
}

User read_user(const Reader& r, const YAML::Node& item, const std::string& key) {
  User u;
  u.origin = origin_of(r, key, item);
  const YAML::Node body = item["user"];
  const std::string k = key + ".user";
  r.mapping(body, k);
  if (!body) return u;
  for (const char* f : {"client-certificate", "client-certificate-data", "client-key", "client-key-data", "token",
                        "tokenFile", "username", "password", "exec", "auth-provider", "as", "as-uid", "as-groups",
                        "as-user-extra"})
    r.note(u.origin, body, std::string("user.") + f, f);
  if (const YAML::Node exec = body["exec"]; exec && !exec.IsNull()) {
    r.mapping(exec, k + ".exec");  // before any of its fields is looked up
    for (const char* f : {"command", "apiVersion", "interactiveMode"})
      r.note(u.origin, exec, std::string("user.exec.") + f, f);
  }
  u.client_certificate = r.path(body["client-certificate"], k + ".client-certificate");
  u.client_certificate_data = r.base64(body["client-certificate-data"], k + ".client-certificate-data");
  u.client_key = r.path(body["client-key"], k + ".client-key");
  u.client_key_data = r.base64(body["client-key-data"], k + ".client-key-data");
  u.token = r.scalar(body["token"], k + ".token");
  u.token_file = r.path(body["tokenFile"], k + ".tokenFile");
  u.username = r.scalar(body["username"], k + ".username");
  u.password = r.scalar(body["password"], k + ".password");
  if (const YAML::Node exec = body["exec"]; exec && !exec.IsNull()) u.exec = read_exec(r, exec, k + ".exec");
  u.auth_provider = body["auth-provider"] && !body["auth-provider"].IsNull();
  u.as = r.scalar(body["as"], k + ".as");
  u.as_uid = r.scalar(body["as-uid"], k + ".as-uid");
  const auto groups = r.list(body["as-groups"], k + ".as-groups");
  for (std::size_t i = 0; i < groups.size(); ++i)
    u.as_groups.push_back(r.scalar(groups[i], k + ".as-groups[" + std::to_string(i) + "]"));
  if (const YAML::Node extra = body["as-user-extra"]; extra && !extra.IsNull()) {
    r.mapping(extra, k + ".as-user-extra");
    for (const auto& entry : extra) {
      if (!entry.first.IsScalar()) r.fail(k + ".as-user-extra", entry.first, "expected a string key");
      const std::string name = entry.first.Scalar();
      const std::string ek = k + ".as-user-extra." + name;
      std::vector<std::string> values;
      const auto items = r.list(entry.second, ek);
      for (std::size_t i = 0; i < items.size(); ++i) values.push_back(r.scalar(items[i], ek + "[" + std::to_string(i) + "]"));
      u.as_user_extra.emplace_back(name, std::move(values));
    }
  }
  return u;
}

Context read_context(const Reader& r, const YAML::Node& item, const std::string& key) {
  Context c;
  c.origin = origin_of(r, key, item);
  const YAML::Node body = item["context"];
  const std::string k = key + ".context";
  r.mapping(body, k);
  if (!body) return c;
  for (const char* f : {"cluster", "user", "namespace"}) r.note(c.origin, body, std::string("context.") + f, f);
  c.cluster = r.scalar(body["cluster"], k + ".cluster");
  c.user = r.scalar(body["user"], k + ".user");
  c.namespace_ = r.scalar(body["namespace"], k + ".namespace");
  return c;
}

template <class Entry, class ReadFn>
void read_list(const Reader& r, const YAML::Node& root, const char* list_key, std::map<std::string, Entry>& out,
               ReadFn read) {
  std::set<std::string> seen;
  const auto items = r.list(root[list_key], list_key);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string key = std::string(list_key) + "[" + std::to_string(i) + "]";
    const std::string name = entry_name(r, items[i], key, seen);
    out.emplace(name, read(r, items[i], key));
  }
}

// `root` by value, not const: a missing key of a const node is an invalid node,
// whose line cannot be asked (yaml-cpp throws InvalidNode).
Kubeconfig read_kubeconfig(const Reader& r, const std::string& path, YAML::Node root) {
  Kubeconfig cfg;
  cfg.files.push_back(path);
  if (!root || root.IsNull()) return cfg;  // an empty file is an empty config (clientcmd)
  if (!root.IsMap()) r.fail("", root, "not a kubeconfig: expected a mapping at the top");
  if (const std::string kind = r.scalar(root["kind"], "kind"); !kind.empty() && kind != "Config")
    r.fail("kind", root["kind"], "expected Config, got \"" + kind + "\"");
  cfg.current_context = r.scalar(root["current-context"], "current-context");
  cfg.current_context_origin.file = path;
  cfg.current_context_origin.key = "current-context";
  cfg.current_context_origin.line = line_of(root["current-context"]);
  read_list(r, root, "clusters", cfg.clusters, read_cluster);
  read_list(r, root, "users", cfg.users, read_user);
  read_list(r, root, "contexts", cfg.contexts, read_context);
  return cfg;
}

}  // namespace

Kubeconfig parse_kubeconfig(const std::string& path, const std::string& text) {
  std::filesystem::path base = std::filesystem::absolute(std::filesystem::path(path)).parent_path();
  const Reader r(path, base);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path, "", "not valid YAML: " + e.msg, e.mark.line >= 0 ? e.mark.line + 1 : 0);
  }
  try {
    return read_kubeconfig(r, path, root);
  } catch (const YAML::Exception& e) {
    // Every shape is checked before it is read; should one be missed, the
    // caller still gets a ConfigError naming the file and line, not
    // yaml-cpp's own exception.
    throw ConfigError(path, "", "unexpected structure: " + e.msg, e.mark.line >= 0 ? e.mark.line + 1 : 0);
  }
}

}  // namespace rebound::kube::detail
