// One HTTP/2 connection on nghttp2: multiplexed streams up to the peer's
// MAX_CONCURRENT_STREAMS, flow-controlled request bodies, GOAWAY (draining)
// and PING health checks that find a silently dead peer.
#pragma once

#include "net/stream.hpp"
#include "conn/connection.hpp"

#include <rebound/options.hpp>

#include <memory>

namespace rebound::h2 {

/// Creates an HTTP/2 connection over a connected stream and sends the
/// preface and SETTINGS. It starts ready.
std::shared_ptr<conn::Connection> make_connection(conn::ConnectionOwner& owner, std::uint64_t id,
                                                  std::unique_ptr<net::Stream> stream,
                                                  const Options& options);

}  // namespace rebound::h2
