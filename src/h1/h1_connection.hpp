// One HTTP/1.1 connection: one request at a time, keep-alive, and an idle
// watch that notices at once when the server closes an idle connection (so
// a dead connection leaves the pool before anyone picks it).
#pragma once

#include "net/dialer.hpp"
#include "net/stream.hpp"
#include "conn/connection.hpp"

#include <rebound/options.hpp>

#include <memory>

namespace rebound::h1 {

/// Creates an HTTP/1.1 connection over a connected stream. It starts ready.
std::shared_ptr<conn::Connection> make_connection(conn::ConnectionOwner& owner, std::uint64_t id,
                                                  std::unique_ptr<net::Stream> stream,
                                                  const Options& options);
/// The same, for what the dial said about a proxy: with `forward.absolute_form` the stream goes to a forwarding HTTP proxy:
/// requests are sent in absolute form with the proxy's credentials, and a
/// 407 fails the request with errc::proxy_auth_required.
std::shared_ptr<conn::Connection> make_connection_via(conn::ConnectionOwner& owner, std::uint64_t id,
                                                      std::unique_ptr<net::Stream> stream, const Options& options,
                                                      net::ForwardProxy forward);

}  // namespace rebound::h1
