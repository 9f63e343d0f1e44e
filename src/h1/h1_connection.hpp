// One HTTP/1.1 connection: one request at a time, keep-alive, and an idle
// watch that notices at once when the server closes an idle connection (so
// a dead connection leaves the pool before anyone picks it).
#pragma once

#include "net/stream.hpp"
#include "conn/connection.hpp"

#include <rebound/options.hpp>

#include <memory>

namespace rebound::h1 {

/// Creates an HTTP/1.1 connection over a connected stream. It starts ready.
std::shared_ptr<conn::Connection> make_connection(conn::ConnectionOwner& owner, std::uint64_t id,
                                                  std::unique_ptr<net::Stream> stream,
                                                  const Options& options);

}  // namespace rebound::h1
