// Happy Eyeballs v2 (RFC 8305) for the addresses of one name within one
// dial: the order the addresses are tried in (a pure function) and the race
// of TCP connects over them - the next attempt starts after the connection
// attempt delay (250 ms) or at once when one fails, the first to connect
// wins and the others are closed. The race has no deadline of its own: the
// dial's connect_timeout bounds it (the dial cancels it).
//
// Layers: the race owns "which address of this name, and when the next";
// the pool's dial_stagger (src/pool/origin_pool_dials.cpp) owns "a whole
// new dial beside one that stalls". They do not multiply: a dial whose race
// still has addresses to try is sending a fresh SYN at least every 250 ms,
// so the pool starts no staggered dial beside it (Dial::racing()), and a
// dial that connected on any address has reached_peer().
#pragma once

#include "net/stream.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace rebound::net {

/// RFC 8305 section 5's recommended connection attempt delay.
inline constexpr std::chrono::milliseconds connection_attempt_delay{250};

/// The order to try `resolved` in: IPv6 first, then the families
/// alternating (RFC 8305 section 4), each family keeping the resolver's
/// (RFC 6724) order; duplicates dropped. Pure; never throws but bad_alloc.
std::vector<tcp::endpoint> interleave_families(const std::vector<tcp::endpoint>& resolved);

/// One race of TCP connects over `ordered` (already interleaved). The
/// handler is called exactly once, on the executor: with the connected
/// socket and a detail naming each address that failed before it (empty
/// when the first attempt won), or with the last attempt's error and a
/// detail naming every address's failure. Not thread-safe: use it on its
/// executor.
class AddressRace : public std::enable_shared_from_this<AddressRace> {
 public:
  using Handler = std::function<void(error_code, tcp::socket, std::string detail)>;

  AddressRace(asio::any_io_executor executor, std::vector<tcp::endpoint> ordered, std::chrono::milliseconds delay,
              Handler handler);
  void start();
  /// Closes every attempt; the handler is then not called.
  void cancel();
  /// True while some address has not been tried yet.
  bool untried_left() const noexcept { return !done_ && next_ < endpoints_.size(); }

 private:
  void start_next();
  void arm_delay();
  void on_attempt(std::size_t index, error_code ec);
  void finish(error_code ec, tcp::socket socket, std::string detail);

  asio::any_io_executor executor_;
  std::vector<tcp::endpoint> endpoints_;
  std::chrono::milliseconds delay_;
  Handler handler_;
  std::vector<std::unique_ptr<tcp::socket>> attempts_;  // index: endpoint's
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;  // a cancelled wait may still be queued
  std::size_t next_ = 0, in_flight_ = 0;
  std::string failures_;
  error_code last_error_;
  bool done_ = false;
};

}  // namespace rebound::net
