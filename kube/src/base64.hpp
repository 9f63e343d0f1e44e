// Strict standard base64 (RFC 4648, padded), as Go decodes []byte fields of
// kubeconfig files and ExecCredentials: line breaks are ignored, anything
// else outside the alphabet is an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rebound::kube::detail {

/// nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace rebound::kube::detail
