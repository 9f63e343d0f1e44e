// The kubeconfig file's content as rebound reads it (clientcmd's api.Config
// without what rebound ignores), each entry remembering the file, key path
// and line it came from so errors can name them.
#pragma once

#include <rebound/kube/rest_config.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rebound::kube::detail {

/// Where an entry came from: file, key path ("users[1]") and lines.
struct Origin {
  std::string file;
  std::string key;
  int line = 0;
  std::map<std::string, int> field_lines;  ///< "user.token" -> line

  /// The field's full key path: key + "." + field.
  std::string path(const std::string& field) const { return field.empty() ? key : key + "." + field; }
  /// A ConfigError for `field` ("user.client-certificate") of this entry.
  ConfigError error(const std::string& field, const std::string& message) const {
    const auto it = field_lines.find(field);
    return ConfigError(file, path(field), message, it != field_lines.end() ? it->second : line);
  }
};

struct ExecEntry {
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  ///< "" when the file has none
};

struct Cluster {
  Origin origin;
  std::string server;
  std::string certificate_authority;       ///< absolute path
  std::string certificate_authority_data;  ///< decoded PEM
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
  std::string exec_extension_json;  ///< extensions' client.authentication.k8s.io/exec, as JSON
};

struct User {
  Origin origin;
  std::string client_certificate;       ///< absolute path
  std::string client_certificate_data;  ///< decoded PEM
  std::string client_key;
  std::string client_key_data;
  std::string token;
  std::string token_file;  ///< absolute path
  std::string username;
  std::string password;
  std::optional<ExecEntry> exec;
  bool auth_provider = false;
  std::string as;  ///< impersonation: as, as-uid, as-groups, as-user-extra
  std::string as_uid;
  std::vector<std::string> as_groups;
  std::vector<std::pair<std::string, std::vector<std::string>>> as_user_extra;
};

struct Context {
  Origin origin;
  std::string cluster;
  std::string user;
  std::string namespace_;
};

/// One file, or several merged.
struct Kubeconfig {
  std::vector<std::string> files;  ///< the files read, in order
  std::string current_context;
  Origin current_context_origin;   ///< key "current-context"
  std::map<std::string, Cluster> clusters;
  std::map<std::string, User> users;
  std::map<std::string, Context> contexts;
};

/// Parses one file's text; relative paths are resolved against `path`'s
/// directory. Throws ConfigError naming `path`, the line and the key.
Kubeconfig parse_kubeconfig(const std::string& path, const std::string& text);

/// Merges `next` into `into`: names already present keep their entry;
/// current-context is kept once set.
void merge_into(Kubeconfig& into, Kubeconfig next);

}  // namespace rebound::kube::detail
