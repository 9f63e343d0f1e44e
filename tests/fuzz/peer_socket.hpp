// The transport of a connection harness: an AF_UNIX socket pair, one end
// adopted by the connection under test as its net::Stream, the other played
// by the harness as the server. net::Stream only knows TCP and TLS, and the
// connections set no TCP options on it, so the stream end is adopted as a
// tcp::socket (Asio does not check the address family of an adopted
// descriptor). Everything stays in the kernel's memory; nothing is routed.
#pragma once

#include "fuzz_check.hpp"
#include "net/stream.hpp"

#include <boost/asio/io_context.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string_view>

namespace rebound::fuzz {

class PeerSocket {
 public:
  /// Makes the pair; `client_stream()` hands out the connection's end once.
  explicit PeerSocket(boost::asio::io_context& io) {
    int fds[2];
    FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0, "socketpair: errno %d", errno);
    peer_ = fds[1];
    net::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.assign(net::tcp::v4(), fds[0], ec);
    FUZZ_CHECK(!ec, "assign: %s", ec.message().c_str());
    stream_ = std::make_unique<net::Stream>(std::move(socket));
  }
  ~PeerSocket() {
    if (peer_ >= 0) ::close(peer_);
  }
  PeerSocket(const PeerSocket&) = delete;
  PeerSocket& operator=(const PeerSocket&) = delete;

  std::unique_ptr<net::Stream> client_stream() { return std::move(stream_); }

  /// Writes what the socket buffer takes now. Returns the bytes written, or
  /// -1 once the client's end is gone (no more can ever be delivered).
  long send_some(std::string_view bytes) {
    if (bytes.empty()) return 0;
    const ssize_t n = ::send(peer_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -1;
  }

  /// Discards whatever the client wrote (its requests), so its writes never
  /// stall on a full buffer. True if anything was read.
  bool drain() {
    bool any = false;
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(peer_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        any = true;
        client_bytes_ += static_cast<std::size_t>(n);
        continue;
      }
      return any;
    }
  }

  /// The server's FIN: the client reads EOF after the bytes already sent.
  void end_of_stream() { ::shutdown(peer_, SHUT_WR); }

  std::size_t client_bytes() const noexcept { return client_bytes_; }

 private:
  int peer_ = -1;
  std::unique_ptr<net::Stream> stream_;
  std::size_t client_bytes_ = 0;
};

}  // namespace rebound::fuzz
