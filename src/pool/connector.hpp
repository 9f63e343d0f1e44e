// The pool's seam to the network: how it dials an origin and how a dialed
// stream becomes a protocol connection. Production uses net::Dial and the
// h1/h2 connections; the pool's unit tests hand it a fake that completes
// dials on command and builds scripted connections.
#pragma once

#include "net/dialer.hpp"
#include "pool/connection.hpp"

#include <rebound/options.hpp>
#include <rebound/url.hpp>

#include <memory>

namespace rebound::pool {

namespace asio = boost::asio;

class Connector {
 public:
  virtual ~Connector() = default;
  /// Starts dialing `origin`; `done` is called exactly once, later (never
  /// from inside this call), unless the returned handle is cancelled first.
  virtual std::shared_ptr<net::Dial> dial(const Url& origin, net::DialHandler done) = 0;
  /// Wraps a dialed stream in the connection for its negotiated protocol,
  /// reporting to `owner`. It starts ready.
  virtual std::shared_ptr<Connection> connect(ConnectionOwner& owner, std::uint64_t id,
                                              net::DialResult dialed) = 0;
};

/// The real network: net::Dial, then h1::make_connection or h2::make_connection.
std::unique_ptr<Connector> make_network_connector(asio::any_io_executor executor, const Options& options,
                                                  std::shared_ptr<net::TlsContext> tls);

}  // namespace rebound::pool
