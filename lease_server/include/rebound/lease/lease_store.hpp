// Deprecated forwarding header, kept for one release (0.1 -> 0.2): the
// Lease API server moved to its own module. Include
// <rebound/lease_server/lease_store.hpp> instead; the names
// (rebound::lease::install_lease_api, LeaseStore, LeaseStoreOptions...) are
// unchanged. This file owns nothing and will be removed in the next release.
#pragma once

#include <rebound/lease_server/lease_store.hpp>
