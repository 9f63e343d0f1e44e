// Builds the protocol-specific connection for a freshly dialed stream.
#pragma once

#include "net/stream.hpp"
#include "pool/connection.hpp"

#include <rebound/options.hpp>

namespace rebound::pool {

std::shared_ptr<Connection> make_connection(ConnectionOwner& owner, std::uint64_t id, Protocol protocol,
                                            std::unique_ptr<net::Stream> stream, const Options& options);

}  // namespace rebound::pool
