// TLS over a non-blocking TCP socket, driven straight through OpenSSL.
//
// Why not asio::ssl::stream: it moves every byte through a BIO pair (two
// extra copies), hands back at most one TLS record per operation and queues a
// handler per record, so an HTTP/2 connection reading 64 KiB ran ~4 handler
// cycles where one would do. Here OpenSSL reads the socket itself (socket
// BIO, read-ahead into a 64 KiB buffer), one read operation decrypts every
// record already received, and Asio is used only to wait for readiness.
//
// Errors match asio::ssl's, so classification code is shared: a clean TLS
// close is asio::error::eof, EOF without close_notify is
// asio::ssl::error::stream_truncated, OpenSSL failures are in Asio's ssl
// category, socket failures in the system category.
//
// Not thread-safe: one I/O thread uses a stream (one read and one write may
// be outstanding at once, as with a socket). Handlers run on the socket's
// executor; a handler is never invoked from inside the initiating call.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <utility>

namespace rebound::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

/// True when `ec` is a TLS alert by which the server refuses our client
/// certificate or its absence (certificate required, bad or unknown
/// certificate, unknown CA, expired, revoked, access denied). Under TLS 1.3
/// it arrives after the client's side of the handshake completed, on the
/// first read.
bool is_certificate_rejection(const error_code& ec) noexcept;

class TlsStream {
 public:
  using executor_type = asio::any_io_executor;

  /// Takes a connected socket; `ctx` holds the trust store and defaults.
  /// Throws rebound::Exception when OpenSSL cannot create the session.
  TlsStream(tcp::socket socket, SSL_CTX* ctx);

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  tcp::socket& socket() noexcept { return socket_; }
  SSL* native_handle() noexcept { return ssl_.get(); }

  /// Client handshake. Handler: void(error_code).
  template <class Handler>
  void async_handshake(Handler&& handler) {
    run<Op::handshake>(asio::mutable_buffer(), std::forward<Handler>(handler), true);
  }

  /// Reads whatever plaintext is available, up to the first buffer's size
  /// (at least one byte unless an error ends the read). Handler:
  /// void(error_code, std::size_t).
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    run<Op::read>(first_buffer<asio::mutable_buffer>(buffers), std::forward<Handler>(handler), true);
  }

  /// Reads the plaintext there is now, without waiting: the bytes read
  /// (> 0); or 0 with `ec` set to would_block when a wait must come first
  /// (read_wants_write() says for which); or 0 with the error that ends
  /// the stream (asio::error::eof after close_notify).
  std::size_t read_some_now(asio::mutable_buffer buffer, error_code& ec);
  /// The last read_some_now stopped because OpenSSL must write first (a
  /// key update's answer): wait for the socket to be writable, not readable.
  bool read_wants_write() const noexcept { return read_wants_write_; }

  /// Writes as much of the first buffer as the socket takes now (at least
  /// one byte unless an error ends the write). Handler:
  /// void(error_code, std::size_t).
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    const asio::const_buffer b = first_buffer<asio::const_buffer>(buffers);
    run<Op::write>(asio::mutable_buffer(const_cast<void*>(b.data()), b.size()), std::forward<Handler>(handler),
                   true);
  }

 private:
  enum class Op { handshake, read, write };
  /// What one attempt at an operation came to.
  enum class Step { done, want_read, want_write };

  struct SslDeleter {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
  };

  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (Buffer b(*it); b.size() > 0) return b;
    return Buffer();
  }

  /// One attempt: as much of `op` as OpenSSL can do without blocking.
  /// Sets `ec` on failure and `transferred` to the bytes moved.
  Step attempt(Op op, asio::mutable_buffer buffer, std::size_t& transferred, error_code& ec);

  template <Op op, class Handler>
  void run(asio::mutable_buffer buffer, Handler handler, bool initiating) {
    std::size_t transferred = 0;
    error_code ec;
    // The last read emptied the socket and OpenSSL: wait before trying, or
    // the attempt is a recv() that returns EAGAIN (one per read cycle).
    const bool known_empty = op == Op::read && initiating && socket_drained_;
    const Step step = known_empty ? Step::want_read : attempt(op, buffer, transferred, ec);
    if (step == Step::done) {
      finish<op>(std::move(handler), ec, transferred, initiating);
      return;
    }
    socket_.async_wait(step == Step::want_read ? tcp::socket::wait_read : tcp::socket::wait_write,
                       [this, buffer, handler = std::move(handler)](error_code wait_ec) mutable {
                         if (wait_ec) finish<op>(std::move(handler), wait_ec, 0, false);
                         else run<op>(buffer, std::move(handler), false);
                       });
  }

  // Completes: posted when still inside the initiating call, direct from a
  // wait's completion (which already runs as a handler).
  template <Op op, class Handler>
  void finish(Handler handler, error_code ec, std::size_t transferred, bool initiating) {
    if constexpr (op == Op::handshake) {
      if (initiating) asio::post(socket_.get_executor(), asio::append(std::move(handler), ec));
      else std::move(handler)(ec);
    } else {
      if (initiating) asio::post(socket_.get_executor(), asio::append(std::move(handler), ec, transferred));
      else std::move(handler)(ec, transferred);
    }
  }

  tcp::socket socket_;
  std::unique_ptr<SSL, SslDeleter> ssl_;
  bool socket_drained_ = false;  // the last read stopped at EAGAIN with nothing buffered
  bool read_wants_write_ = false;  // the last read_some_now needs the socket writable
};

}  // namespace rebound::net
