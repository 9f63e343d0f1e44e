// What the listener and every session share: the fault settings in force,
// the resolved upstream, the counters behind FaultProxy::stats(), and the
// registry of open sessions that mode changes act on.
//
// Threading: everything here except `counters` is touched only on the I/O
// thread (FaultProxy marshals control calls there). The counters are atomic
// so stats() can read them from any thread without a round trip.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "rebound/proxy/fault_proxy.hpp"

namespace rebound::proxy::detail {

class Session;

struct Counters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> client_to_server{0};
  std::atomic<std::uint64_t> server_to_client{0};
  std::atomic<std::uint64_t> open{0};
};

/// Owns the open sessions; a session removes itself when it closes.
class SessionRegistry {
 public:
  explicit SessionRegistry(Counters& counters) : counters_(counters) {}

  void add(std::shared_ptr<Session> s) {
    Session* key = s.get();
    sessions_.emplace(key, std::move(s));
    counters_.open.store(sessions_.size(), std::memory_order_relaxed);
  }
  void remove(Session* s) {
    sessions_.erase(s);
    counters_.open.store(sessions_.size(), std::memory_order_relaxed);
  }
  /// A copy, so callers may reset sessions (which removes them) while
  /// walking it.
  std::vector<std::shared_ptr<Session>> snapshot() const {
    std::vector<std::shared_ptr<Session>> out;
    out.reserve(sessions_.size());
    for (const auto& [key, s] : sessions_) out.push_back(s);
    return out;
  }

 private:
  Counters& counters_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;
};

struct ProxyContext {
  explicit ProxyContext(boost::asio::io_context& io_context) : io(io_context) {}

  boost::asio::io_context& io;
  boost::asio::ip::tcp::resolver::results_type upstream;  ///< resolved in start()
  Mode mode = Mode::pass;
  std::chrono::milliseconds delay{0};
  std::uint64_t cut_after_bytes = 0;  ///< 0: no budget for new sessions
  Counters counters;
  SessionRegistry sessions{counters};
};

}  // namespace rebound::proxy::detail
