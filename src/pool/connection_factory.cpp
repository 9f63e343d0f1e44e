// Chooses the protocol implementation for a dialed stream.
#include "pool/connection_factory.hpp"

#include "h1/h1_connection.hpp"
#include "h2/h2_connection.hpp"

namespace rebound::pool {

std::shared_ptr<Connection> make_connection(ConnectionOwner& owner, std::uint64_t id, Protocol protocol,
                                            std::unique_ptr<net::Stream> stream, const Options& options) {
  switch (protocol) {
    case Protocol::http1: return h1::make_connection(owner, id, std::move(stream), options);
    case Protocol::http2: return h2::make_connection(owner, id, std::move(stream), options);
  }
  return nullptr;
}

}  // namespace rebound::pool
