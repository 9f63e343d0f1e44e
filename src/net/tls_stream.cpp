// OpenSSL calls behind TlsStream: session set-up and one non-blocking attempt
// at a handshake, read or write, with OpenSSL's outcome mapped to Asio's
// error codes.
#include "net/tls_stream.hpp"

#include <rebound/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>

#include <cerrno>
#include <cstdint>

#include <sys/socket.h>

namespace rebound::net {

namespace {

// Read-ahead buffer: a whole burst of records per recv(), not a header and a
// body recv() per record.
constexpr std::size_t read_ahead_bytes = 64 * 1024;

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when
// the peer has reset the connection: a library must not kill its host
// process, so this BIO sends with MSG_NOSIGNAL (the rest is what OpenSSL's
// does: non-blocking recv/send with retry flags).
int socket_of(BIO* bio) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

int bio_write(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(socket_of(bio), data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* data, int len) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(socket_of(bio), data, static_cast<std::size_t>(len), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
  return static_cast<int>(n);
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // unbuffered: nothing to flush
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO* new_socket_bio(int fd) {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "rebound socket");
    if (m) {
      BIO_meth_set_write(m, bio_write);
      BIO_meth_set_read(m, bio_read);
      BIO_meth_set_ctrl(m, bio_ctrl);
      BIO_meth_set_create(m, bio_create);
    }
    return m;
  }();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (bio) BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
  return bio;
}

}  // namespace

TlsStream::TlsStream(tcp::socket socket, SSL_CTX* ctx) : socket_(std::move(socket)), ssl_(SSL_new(ctx)) {
  BIO* bio = ssl_ ? new_socket_bio(static_cast<int>(socket_.native_handle())) : nullptr;
  if (!bio) {
    const char* reason = ERR_reason_error_string(ERR_get_error());
    throw Exception(Error(errc::tls_handshake_failed,
                          std::string("cannot create a TLS session: ") + (reason ? reason : "out of memory")));
  }
  SSL_set_bio(ssl_.get(), bio, bio);  // the session owns the BIO; the socket owns the descriptor
  socket_.non_blocking(true);
  SSL_set_connect_state(ssl_.get());
  // Partial writes report progress record by record; a retried write may
  // come from a moved buffer (the h2 batch is rebuilt between writes).
  // RELEASE_BUFFERS: the 64 KiB read-ahead buffer and the write buffer
  // go back to the allocator whenever they are empty, so an idle
  // connection holds neither (#26: memory per idle connection); a busy
  // one gets them anew per burst, which costs a malloc per read, not per
  // request.
  SSL_set_mode(ssl_.get(),
               SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_set_read_ahead(ssl_.get(), 1);
  SSL_set_default_read_buffer_len(ssl_.get(), read_ahead_bytes);
}

TlsStream::Step TlsStream::attempt(Op op, asio::mutable_buffer buffer, std::size_t& transferred,
                                   error_code& ec) {
  SSL* ssl = ssl_.get();
  if (op == Op::read) socket_drained_ = false;
  auto* data = static_cast<unsigned char*>(buffer.data());
  if (op != Op::handshake && buffer.size() == 0) return Step::done;
  int rv = 1;
  while (true) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    switch (op) {
      case Op::handshake: rv = SSL_do_handshake(ssl); break;
      case Op::read: rv = SSL_read_ex(ssl, data + transferred, buffer.size() - transferred, &n); break;
      case Op::write: rv = SSL_write_ex(ssl, data + transferred, buffer.size() - transferred, &n); break;
    }
    if (rv == 1) {
      transferred += n;
      // Keep going while there is room: one operation takes every record
      // already received (or hands the socket every record it accepts).
      if (op == Op::handshake || transferred == buffer.size()) return Step::done;
      continue;
    }
    const int reason = SSL_get_error(ssl, rv);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
      if (op == Op::read && reason == SSL_ERROR_WANT_READ) socket_drained_ = !SSL_has_pending(ssl);
      if (transferred > 0) return Step::done;  // report progress; the next call waits
      return reason == SSL_ERROR_WANT_READ ? Step::want_read : Step::want_write;
    }
    if (transferred > 0) return Step::done;  // deliver the data; the error repeats on the next call
    switch (reason) {
      case SSL_ERROR_ZERO_RETURN: ec = asio::error::eof; break;
      case SSL_ERROR_SYSCALL:
        if (const unsigned long e = ERR_get_error(); e != 0)
          ec = error_code(static_cast<int>(e), asio::error::get_ssl_category());
        else if (errno != 0)
          ec = error_code(errno, boost::system::system_category());
        else
          ec = asio::ssl::error::stream_truncated;  // EOF without close_notify
        break;
      default: {
        const unsigned long e = ERR_get_error();
        if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ec = asio::ssl::error::stream_truncated;
        else ec = error_code(static_cast<int>(e), asio::error::get_ssl_category());
      }
    }
    return Step::done;
  }
}

std::size_t TlsStream::read_some_now(asio::mutable_buffer buffer, error_code& ec) {
  std::size_t n = 0;
  const Step step = attempt(Op::read, buffer, n, ec);
  read_wants_write_ = step == Step::want_write;
  if (step != Step::done) ec = asio::error::would_block;
  return n;
}

bool is_certificate_rejection(const error_code& ec) noexcept {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED: return true;
    default: return false;
  }
}

}  // namespace rebound::net
