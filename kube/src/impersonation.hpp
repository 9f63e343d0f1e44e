// Impersonation as a credential source: the user's own credentials (any
// source, or none) with the Impersonate-* header fields added, so that
// they travel the same way - to the configured origin only, refreshed
// after a 401 by the source that owns them.
#pragma once

#include <rebound/kube/rest_config.hpp>

#include <memory>

namespace rebound::kube::detail {

/// The Impersonate-* fields for `who`, names lower-case, in client-go's order.
std::vector<std::pair<std::string, std::string>> impersonation_headers(const Impersonation& who);

/// `inner`'s credentials (none when null) plus `who`'s fields. A rejected
/// credential is handed back to `inner` without them, so it recognises its
/// own and refreshes.
std::shared_ptr<rebound::CredentialSource> impersonating(std::shared_ptr<rebound::CredentialSource> inner,
                                                         const Impersonation& who);

}  // namespace rebound::kube::detail
