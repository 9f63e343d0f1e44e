// What the subcommands share: client options from flags (a kubeconfig
// context or in-cluster config among them), exit codes, and one-line error
// output.
#pragma once

#include <rebound/kube/rest_config.hpp>
#include <rebound/rebound.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rebound::cli {

/// What the client flags resolve to: the Client's options and, with
/// --kubeconfig/--context/--in-cluster, the cluster they chose.
struct ClientSetup {
  Options options;
  std::optional<kube::RestConfig> cluster;
  /// The URL argument: with a cluster, a path ("/apis/...") is resolved
  /// against its server and a full URL is used as it is; without one, `arg`.
  std::string url(const std::string& arg) const;
};

/// Flags every client-side subcommand (get, watch, bench, elect) accepts.
struct ClientFlags {
  bool insecure = false;
  std::string cacert;
  std::string cert;  ///< client certificate (PEM; may hold the key too)
  std::string key;   ///< its private key (default: the --cert file)
  std::string kubeconfig;
  std::string context;
  bool in_cluster = false;  ///< elect only (add_in_cluster_flag)
  bool http1_only = false;
  bool http2_prior_knowledge = false;
  std::string connect_timeout = "10s";
  std::string read_idle_timeout = "30s";
  std::string ping_timeout = "15s";
  std::string timeout = "60s";

  void add_to(CLI::App& app);
  /// --in-cluster: the pod's service account (elect).
  void add_in_cluster_flag(CLI::App& app);
  /// True when a flag asks for a kubeconfig or in-cluster config.
  bool wants_cluster() const { return !kubeconfig.empty() || !context.empty() || in_cluster; }
  /// Options and the chosen cluster. Precedence, as kubectl's: flags, then
  /// the cluster's TLS and credentials, then defaults (-k, --cacert,
  /// --cert/--key override the kubeconfig's). Throws CLI::ValidationError
  /// (bad duration, --key without --cert, --in-cluster with --kubeconfig)
  /// and kube::ConfigError (see with_config_errors).
  ClientSetup setup() const;
  /// setup().options.
  Options to_options() const;
};

/// Exit code when the kubeconfig, the in-cluster files or --cert/--key
/// cannot be used (one line on stderr saying which file and key).
inline constexpr int exit_config_error = 2;
/// Runs `body`; a kube::ConfigError it throws is printed as one line
/// ("rebound <command>: <file>:<line>: <key>: <what>") and becomes exit_config_error.
int with_config_errors(const std::string& command, const std::function<int()>& body);

/// Adds `--name` as a duration option with units (ms, s, m).
CLI::Option* add_duration(CLI::App& app, const std::string& name, std::string& value, const std::string& help);
std::chrono::milliseconds duration_or_throw(const std::string& flag, const std::string& value);

/// curl-like exit code for a transport error (6 resolve, 7 connect, 28
/// timeout, 35 TLS, 60 certificate, 3 URL, 1 scheme, 56 network, 16 HTTP/2,
/// 58 client certificate; 2 credentials could not be obtained).
int exit_code_for(const Error& e);
/// The exit-code table for --help footers.
std::string exit_codes_help();
/// Exit code for an HTTP error status with --fail.
inline constexpr int exit_http_error = 22;

/// Adds "Name: value" header flags (-H) to `request`; throws
/// CLI::ValidationError naming the bad one.
void add_header_flags(Request& request, const std::vector<std::string>& headers);

/// For long-running subcommands (serve, proxy): feeds each stdin line to
/// `on_command` on a background thread and returns when SIGINT or SIGTERM
/// arrives. The caller then stops its service and exits with std::_Exit,
/// since the stdin reader may still be blocked.
void serve_until_signalled(const std::function<void(const std::string& line)>& on_command);
void add_get(CLI::App& root);
void add_serve(CLI::App& root);
void add_watch(CLI::App& root);
void add_bench(CLI::App& root);
void add_demo(CLI::App& root);
void add_proxy(CLI::App& root);
void add_soak(CLI::App& root);
void add_elect(CLI::App& root);

}  // namespace rebound::cli
