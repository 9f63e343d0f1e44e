// A connected byte stream that is either plain TCP or TLS over TCP, so the
// protocol layers (h1, h2) are written once for both. Satisfies Asio's
// AsyncReadStream/AsyncWriteStream for completion handlers.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/tls_stream.hpp"

#include <memory>
#include <string>

namespace rebound::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Stream {
 public:
  using executor_type = asio::any_io_executor;
  explicit Stream(tcp::socket socket) : tcp_(std::move(socket)) {}
  explicit Stream(std::unique_ptr<TlsStream> tls)
      : tcp_(tls->get_executor()), tls_(std::move(tls)) {}

  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  bool is_tls() const noexcept { return tls_ != nullptr; }
  tcp::socket& socket() noexcept { return tls_ ? tls_->socket() : tcp_; }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) tls_->async_read_some(buffers, std::forward<Handler>(handler));
    else tcp_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) tls_->async_write_some(buffers, std::forward<Handler>(handler));
    else tcp_.async_write_some(buffers, std::forward<Handler>(handler));
  }

  /// Closes at once (no TLS close_notify: callers close on failure or after
  /// the peer is done; a clean TLS shutdown buys nothing for HTTP).
  void close() noexcept {
    boost::system::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  tcp::socket tcp_;  // unused (never opened) when tls_ is set
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace rebound::net
