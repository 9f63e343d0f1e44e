// The pool's seam to the network: how it dials an origin and how a dialed
// stream becomes a protocol connection. The client wires the production
// one (client/network_connector.hpp: net::Dial and the h1/h2 connections),
// so the pool never includes a protocol; the pool's unit tests hand it a
// fake that completes dials on command and builds scripted connections.
#pragma once

#include "conn/connection.hpp"
#include "net/dialer.hpp"

#include <rebound/options.hpp>
#include <rebound/url.hpp>

#include <memory>

namespace rebound::pool {

namespace asio = boost::asio;

// The pool speaks of connections and exchanges by these names.
using conn::Connection;
using conn::ConnectionOwner;
using conn::ConnState;
using conn::InFlight;
using inflight::Exchange;

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

}  // namespace rebound::pool
