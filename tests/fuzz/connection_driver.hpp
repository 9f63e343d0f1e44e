// Runs one real connection (HTTP/1.1 or HTTP/2) against a ServerScript: the
// requests go in, the server's flights come back through a PeerSocket, the
// input ends as the script says, and then every invariant is checked: the
// connection is closed, reported its close once, handed each attempt back
// once, each request's callback ran once, and nothing still holds the
// connection. The io_context is only ever polled, with a budget of handlers
// per input, so no input can hang the fuzzer: running out of budget is a
// finding (a connection that spins).
#pragma once

#include "fuzz_check.hpp"
#include "owner_probe.hpp"
#include "peer_socket.hpp"
#include "server_script.hpp"

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

namespace rebound::fuzz {

using MakeConnection = std::function<std::shared_ptr<conn::Connection>(
    conn::ConnectionOwner&, std::uint64_t, std::unique_ptr<net::Stream>, const Options&)>;

class ConnectionDriver {
 public:
  ConnectionDriver(const Options& options, Protocol protocol, MakeConnection make)
      : options_(options), protocol_(protocol), make_(std::move(make)) {}

  void run(const ServerScript& script) {
    boost::asio::io_context io;
    OwnerProbe probe(io, options_, protocol_);
    PeerSocket peer(io);
    handlers_ = 0;
    auto connection = make_(probe, 1, peer.client_stream(), options_);
    const std::weak_ptr<conn::Connection> weak = connection;

    int unsent = script.requests;
    const auto submit_what_fits = [&] {
      while (unsent > 0 && connection->can_take()) {
        --unsent;
        probe.submit(*connection, script.kind);
        settle(io, peer);  // each request's bytes leave before the next is submitted
      }
    };
    submit_what_fits();
    settle(io, peer);
    bool peer_gone = false;
    for (std::size_t i = 0; i < script.flights.size(); ++i) {
      if (!peer_gone) peer_gone = !deliver(io, peer, script.flights[i], script.chunk);
      settle(io, peer);
      if (i == 0 && script.ending == Ending::abandon) {
        probe.abandon_first_running();
        settle(io, peer);
      }
      submit_what_fits();
    }

    switch (script.ending) {
      case Ending::eof:
      case Ending::abandon: peer.end_of_stream(); break;
      case Ending::local_close: connection->close(Error(errc::connection_closed, "fuzz: closed by the client")); break;
      case Ending::shutdown:
        connection->shutdown();
        settle(io, peer);
        peer.end_of_stream();
        break;
    }
    settle(io, peer);

    FUZZ_CHECK(connection->state() == conn::ConnState::closed, "still %s after the input ended (%zu active)",
               conn::to_string(connection->state()), connection->active());
    FUZZ_CHECK(probe.closed(), "closed without telling its owner");
    probe.check_all_completed();
    connection.reset();
    settle(io, peer);
    FUZZ_CHECK(weak.expired(), "the closed connection is still referenced (use_count %ld)", weak.use_count());
  }

 private:
  // Handlers one input may run: a few per chunk in practice; a spin hits it.
  static constexpr std::size_t handler_budget = 1'000'000;
  static constexpr std::size_t byte_by_byte_limit = 256;

  // Runs every ready handler and every ready I/O completion, draining what the
  // client writes, until nothing more can happen without new input.
  void settle(boost::asio::io_context& io, PeerSocket& peer) {
    for (;;) {
      while (io.poll_one() > 0)
        FUZZ_CHECK(++handlers_ < handler_budget, "no quiescence after %zu handlers", handlers_);
      if (io.stopped()) io.restart();
      if (!peer.drain()) return;
    }
  }

  // Writes `flight` in chunks, settling after each. False once the client's
  // end is closed (nothing more can be delivered).
  bool deliver(boost::asio::io_context& io, PeerSocket& peer, std::string_view flight, std::size_t chunk) {
    std::size_t offset = 0;  // of `part` in the flight
    while (!flight.empty()) {
      // Byte by byte only at a flight's start: a settle per byte through a
      // long body cost most of a run's time (h2_fuzz: ~25 us a byte).
      const bool whole = chunk == 0 || (chunk == 1 && offset >= byte_by_byte_limit);
      std::string_view part = whole ? flight : flight.substr(0, chunk);
      offset += part.size();
      int stalls = 0;
      while (!part.empty()) {
        const long n = peer.send_some(part);
        if (n < 0) return false;
        if (n == 0 && ++stalls > 3) return true;  // the client stopped reading; the ending decides
        part.remove_prefix(static_cast<std::size_t>(n));
        flight.remove_prefix(static_cast<std::size_t>(n));
        settle(io, peer);
      }
    }
    return true;
  }

  const Options& options_;
  Protocol protocol_;
  MakeConnection make_;
  std::size_t handlers_ = 0;
};

}  // namespace rebound::fuzz
