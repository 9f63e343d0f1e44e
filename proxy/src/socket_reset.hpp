// The one way the proxy kills a socket on purpose: RST, not FIN. SO_LINGER
// with a zero timeout makes close() abort the connection, so the peer's next
// read fails with ECONNRESET instead of seeing an orderly end of stream.
#pragma once

#include <boost/asio/ip/tcp.hpp>

namespace rebound::proxy::detail {

inline void reset_close(boost::asio::ip::tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

}  // namespace rebound::proxy::detail
