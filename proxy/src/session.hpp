// One proxied connection: the accepted client socket, the upstream socket
// it is paired with, and the two relays between them. Owns the
// connection's lifecycle - held, connecting, open, closed - and the ways it
// ends: RST both sides (a fault, a failure on either side, the byte budget)
// or an orderly close once both directions have passed their FIN on.
//
// All members run on the proxy's I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>

#include "proxy_context.hpp"
#include "relay.hpp"

namespace rebound::proxy::detail {

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// `budget`: bytes (both directions) after which the connection is reset;
  /// nullopt for no limit.
  Session(ProxyContext& ctx, boost::asio::ip::tcp::socket client, std::optional<std::uint64_t> budget);

  /// Registers the session and connects upstream, or holds the client
  /// until forwarding resumes when the proxy is blackholed.
  void start();
  /// The proxy went back to pass: connect if held, restart the relays.
  void resume();
  /// RST both sides now.
  void reset();
  /// Go silent for good, whatever the mode: the path to this peer is gone
  /// (a NAT entry expired, a cable was cut) while new connections work.
  void sever() { severed_ = true; }
  /// Plain close of both sides (the proxy is stopping).
  void close();

  // For the relays.
  bool closed() const { return state_ == State::closed; }
  bool paused() const { return severed_ || ctx_.mode == Mode::blackhole; }
  std::chrono::milliseconds delay() const { return ctx_.delay; }
  /// Up to `wanted` bytes the budget still allows, taken from it.
  std::size_t reserve_budget(std::size_t wanted);
  /// Counts bytes written; resets the session once its budget is spent.
  void forwarded(Direction direction, std::size_t n);
  void relay_failed() { finish(Ending::reset); }
  void relay_finished();

 private:
  enum class State {
    held,        ///< accepted while blackholed; no upstream connection yet
    connecting,  ///< upstream connect in flight
    open,        ///< both sockets connected; the relays run (unless paused)
    closed,      ///< both sockets closed; out of the registry
  };
  enum class Ending { reset, orderly };

  /// The one place the state changes, with each state's entry action.
  void enter(State next);
  void on_connected(const boost::system::error_code& ec);
  void finish(Ending how);

  ProxyContext& ctx_;
  State state_ = State::held;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  Relay to_server_;
  Relay to_client_;
  std::optional<std::uint64_t> budget_;
  bool severed_ = false;  // once true, always true
};

}  // namespace rebound::proxy::detail
