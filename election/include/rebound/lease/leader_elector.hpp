// Deprecated forwarding header, kept for one release (0.1 -> 0.2): the
// leader elector moved to the election module. Include
// <rebound/election/leader_elector.hpp> instead; the names
// (rebound::lease::LeaderElector, LeaderElectionConfig, ElectionEvent) are
// unchanged. This file owns nothing and will be removed in the next release.
#pragma once

#include <rebound/election/leader_elector.hpp>
