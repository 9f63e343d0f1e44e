// A connected byte stream that is either plain TCP or TLS over TCP, so the
// protocol layers (h1, h2) are written once for both. Satisfies Asio's
// AsyncReadStream/AsyncWriteStream for completion handlers, and offers a
// second way to read, async_read_shared, into one buffer per thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "net/tls_stream.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace rebound::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// This thread's read buffer for async_read_shared (64 KiB, made on first use).
std::span<std::uint8_t> thread_read_buffer();

class Stream {
 public:
  using executor_type = asio::any_io_executor;
  explicit Stream(tcp::socket socket) : tcp_(std::move(socket)) {
    boost::system::error_code ignored;  // an unopened socket fails its first operation instead
    tcp_.non_blocking(true, ignored);   // read_some_now must not block
  }
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

  /// Reads once bytes are there, into this thread's buffer
  /// (thread_read_buffer): `handler(ec, data, n)` with n > 0 bytes, or with
  /// the error that ended the stream (eof at a clean end). The bytes are
  /// valid during the call only: consume them there. Nothing is held while
  /// it waits, so a connection waiting for its peer costs no read buffer
  /// (an HTTP/2 connection is always waiting to read: with a buffer of its
  /// own, each idle one held 64 KiB). Why a safe wait needs a peek: Asio's
  /// reactor is edge-triggered, and only a speculative operation (as a
  /// receive is, and a plain wait is not) sees bytes whose edge another
  /// thread's reactor run consumed before the wait was registered.
  /// Handler runs on the stream's executor, never inside this call.
  template <class Handler>
  void async_read_shared(Handler&& handler) {
    wait_readable([this, handler = std::forward<Handler>(handler)](boost::system::error_code ec) mutable {
      const std::span<std::uint8_t> buffer = thread_read_buffer();
      std::size_t n = 0;
      if (!ec) n = read_some_now(asio::buffer(buffer.data(), buffer.size()), ec);
      if (ec == asio::error::would_block) return async_read_shared(std::move(handler));
      handler(ec, buffer.data(), n);
    });
  }

  /// Closes at once (no TLS close_notify: callers close on failure or after
  /// the peer is done; a clean TLS shutdown buys nothing for HTTP).
  void close() noexcept {
    boost::system::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  // Completes when a read_some_now may find bytes or the stream's end.
  template <class Handler>
  void wait_readable(Handler&& handler) {
    if (tls_ && tls_->read_wants_write()) {
      tls_->socket().async_wait(tcp::socket::wait_write, std::forward<Handler>(handler));
    } else if (last_read_filled_) {
      // The buffer filled: more may wait in the socket or in OpenSSL.
      asio::post(get_executor(), [handler = std::forward<Handler>(handler)]() mutable { handler({}); });
    } else {
      // A byte peeked, not taken: the end of the stream and socket errors
      // are left for the read to find (as TLS or TCP reports them).
      socket().async_receive(asio::buffer(&peeked_, 1), tcp::socket::message_peek,
                             [handler = std::forward<Handler>(handler)](boost::system::error_code ec,
                                                                        std::size_t) mutable {
                               const bool ours = ec == asio::error::operation_aborted ||
                                                 ec == asio::error::bad_descriptor;
                               handler(ours ? ec : boost::system::error_code());
                             });
    }
  }

  // What there is now, without blocking: n > 0, or would_block, or the end.
  std::size_t read_some_now(asio::mutable_buffer buffer, boost::system::error_code& ec) {
    const std::size_t n = tls_ ? tls_->read_some_now(buffer, ec) : tcp_.read_some(buffer, ec);
    last_read_filled_ = n == buffer.size();
    return n;
  }

  tcp::socket tcp_;  // unused (never opened) when tls_ is set
  std::unique_ptr<TlsStream> tls_;
  std::uint8_t peeked_ = 0;
  bool last_read_filled_ = false;
};

}  // namespace rebound::net
