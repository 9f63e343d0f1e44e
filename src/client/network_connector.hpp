// The production Connector the client hands its pools: dial with
// net::Dial, then build the h1 or h2 connection the negotiated protocol
// calls for. Here, above the pool and the protocols, so that the pool
// depends on neither protocol (docs/ARCHITECTURE.md).
#pragma once

#include "pool/connector.hpp"

#include <memory>

namespace rebound::client {

std::unique_ptr<pool::Connector> make_network_connector(boost::asio::any_io_executor executor, const Options& options,
                                                        std::shared_ptr<net::TlsContext> tls);

}  // namespace rebound::client
