// The three ways a connection ends, for plain TCP and TLS streams alike:
//   reset_close      RST now (SO_LINGER 0): kill(), drop_next_requests()
//   immediate_close  FIN now, nothing left to send
//   lingering_close  FIN (TLS: close_notify) after the last response, then a
//                    bounded wait for the peer to close: closing with unread
//                    input would make the kernel send RST, and a RST can
//                    destroy the response still in flight to the client.
#pragma once

#include <array>
#include <chrono>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

namespace rebound::server::detail {

using tcp = boost::asio::ip::tcp;
using TlsStream = boost::asio::ssl::stream<tcp::socket>;

inline constexpr std::chrono::seconds kLingerLimit{1};

inline tcp::socket& tcp_layer(tcp::socket& s) { return s; }
inline tcp::socket& tcp_layer(TlsStream& s) { return s.next_layer(); }

inline void reset_close(tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

inline void immediate_close(tcp::socket& s) {
  boost::system::error_code ignored;
  s.shutdown(tcp::socket::shutdown_both, ignored);
  s.close(ignored);
}

namespace lingering {

/// Reads and discards until the peer closes (or the timer closes the socket).
template <class Keep>
struct Discard {
  tcp::socket& socket;
  boost::asio::steady_timer& timer;
  Keep keep;
  std::shared_ptr<std::array<char, 4096>> scratch;

  void operator()(boost::system::error_code ec = {}, std::size_t = 0) {
    if (ec) {
      timer.cancel();
      immediate_close(socket);
      return;
    }
    auto& buf = *scratch;
    socket.async_read_some(boost::asio::buffer(buf), std::move(*this));
  }
};

}  // namespace lingering

/// Precondition: no other operation is pending on `s`. `keep` (a shared_ptr
/// to the owner of `s` and `timer`) is held until the socket is closed.
template <class Keep>
void lingering_close(tcp::socket& s, boost::asio::steady_timer& timer, Keep keep) {
  boost::system::error_code ignored;
  s.shutdown(tcp::socket::shutdown_send, ignored);
  timer.expires_after(kLingerLimit);
  timer.async_wait([&s, keep](boost::system::error_code ec) {
    if (!ec) immediate_close(s);
  });
  lingering::Discard<Keep>{s, timer, keep, std::make_shared<std::array<char, 4096>>()}();
}

template <class Keep>
void lingering_close(TlsStream& s, boost::asio::steady_timer& timer, Keep keep) {
  timer.expires_after(kLingerLimit);
  timer.async_wait([&s, keep](boost::system::error_code ec) {
    if (!ec) immediate_close(s.next_layer());
  });
  // Sends close_notify, then waits for the peer's (or its FIN / more data,
  // which end the shutdown with an error; either way we are done).
  s.async_shutdown([&s, &timer, keep](boost::system::error_code) {
    timer.cancel();
    immediate_close(s.next_layer());
  });
}

}  // namespace rebound::server::detail
