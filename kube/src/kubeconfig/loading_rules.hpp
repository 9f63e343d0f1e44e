// Which kubeconfig files are read, and their merge (clientcmd's
// ClientConfigLoadingRules.Load).
#pragma once

#include "kubeconfig/model.hpp"

#include <string>
#include <vector>

namespace rebound::kube::detail {

/// The files to read: {explicit_path} if given, else KUBECONFIG's list
/// (empty entries and repeats dropped), else $HOME/.kube/config.
std::vector<std::string> kubeconfig_files(const std::string& explicit_path);

/// Reads and merges them. A missing explicit file is an error; other
/// missing files are skipped. Throws ConfigError.
Kubeconfig load_merged(const std::string& explicit_path);

}  // namespace rebound::kube::detail
