// What the subcommands share: client options from flags, exit codes, and
// one-line error output.
#pragma once

#include <rebound/rebound.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace rebound::cli {

/// Flags every client-side subcommand (get, watch, bench) accepts.
struct ClientFlags {
  bool insecure = false;
  std::string cacert;
  bool http1_only = false;
  bool http2_prior_knowledge = false;
  std::string connect_timeout = "10s";
  std::string read_idle_timeout = "30s";
  std::string ping_timeout = "15s";
  std::string timeout = "60s";

  void add_to(CLI::App& app);
  /// Options for a Client; throws CLI::ValidationError on a bad duration.
  Options to_options() const;
};

/// Adds `--name` as a duration option with units (ms, s, m).
CLI::Option* add_duration(CLI::App& app, const std::string& name, std::string& value, const std::string& help);
std::chrono::milliseconds duration_or_throw(const std::string& flag, const std::string& value);

/// curl-like exit code for a transport error (6 resolve, 7 connect, 28
/// timeout, 35 TLS, 60 certificate, 3 URL, 1 scheme, 56 network, 16 HTTP/2).
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
