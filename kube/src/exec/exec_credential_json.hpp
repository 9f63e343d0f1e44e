// The ExecCredential protocol's two JSON documents: what the plugin gets in
// KUBERNETES_EXEC_INFO, and reading what it prints. No I/O.
#pragma once

#include <rebound/kube/exec_credentials.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::kube::detail {

/// {"apiVersion":..., "kind":"ExecCredential", "spec":{"interactive":false[, "cluster":{...}]}}
std::string exec_info_json(const ExecConfig& config);

struct ExecAnswer {
  std::string token;
  std::optional<std::chrono::system_clock::time_point> expiry;
  std::string error;  ///< non-empty: the answer is unusable (never quotes the output)
};

/// Reads the plugin's stdout: an ExecCredential of `api_version` with
/// status.token (and optionally status.expirationTimestamp).
ExecAnswer parse_exec_answer(std::string_view stdout_text, const std::string& api_version);

}  // namespace rebound::kube::detail
