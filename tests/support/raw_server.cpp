// RawServer's accept loop and script threads, and RawConnection's
// deadline-bounded POSIX reads and writes.
#include "support/raw_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace rebound::testing {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

RawConnection::RawConnection(int fd) : fd_(fd) {
  // Each write() should leave as its own segment: tests that split a response
  // at a precise byte must not have Nagle glue the pieces back together.
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() { close(); }

bool RawConnection::fill(Clock::time_point deadline) {
  if (fd_ < 0) return false;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    bytes_read_ += static_cast<std::size_t>(n);
    return true;
  }
}

std::string RawConnection::take(std::size_t n) {
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

std::string RawConnection::read_some(std::chrono::milliseconds timeout) {
  if (buffer_.empty()) fill(Clock::now() + timeout);
  return take(buffer_.size());
}

std::string RawConnection::read_until(std::string_view delimiter, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t found;
  while ((found = buffer_.find(delimiter)) == std::string::npos)
    if (!fill(deadline))
      throw std::runtime_error("read_until: EOF or timeout after " + std::to_string(buffer_.size()) +
                               " bytes without the delimiter");
  return take(found + delimiter.size());
}

std::string RawConnection::read_exactly(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (buffer_.size() < n)
    if (!fill(deadline))
      throw std::runtime_error("read_exactly: EOF or timeout with " + std::to_string(buffer_.size()) +
                               " of " + std::to_string(n) + " bytes");
  return take(n);
}

bool RawConnection::write(std::string_view bytes) {
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawConnection::close() {
  // close() with input still unread would send RST and drop whatever is still
  // queued for sending: the peer could lose the script's last bytes to
  // ECONNRESET. So: FIN after everything written, then read (and discard)
  // until the peer closes too, or a bound passes, and only then close.
  int fd;
  {
    std::lock_guard lock(fd_mutex_);
    if (fd_ < 0) return;
    fd = fd_;
    ::shutdown(fd, SHUT_WR);
  }
  // Unlocked: interrupt() may shut the socket down meanwhile, which ends this
  // drain. Only close() and reset() close fd_, both on the script's thread.
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char discard[16384];
    const ssize_t n = ::recv(fd, discard, sizeof discard, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
  std::lock_guard lock(fd_mutex_);
  ::close(fd_);
  fd_ = -1;
}

void RawConnection::reset() {
  std::lock_guard lock(fd_mutex_);
  if (fd_ < 0) return;
  const linger abort{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::close(fd_);
  fd_ = -1;
}

void RawConnection::interrupt() {
  // shutdown(), not close(): the descriptor stays valid for the script thread,
  // whose poll() now reports EOF and whose send() fails.
  std::lock_guard lock(fd_mutex_);
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

RawServer::RawServer(Script script) : script_(std::move(script)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) < 0 || ::listen(listener_, 64) < 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) < 0 ||
      ::pipe2(wake_, O_CLOEXEC) < 0) {
    const int saved = errno;
    ::close(listener_);
    errno = saved;
    throw_errno("listen on 127.0.0.1:0");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RawServer::~RawServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  (void)!::write(wake_[1], "x", 1);
  acceptor_.join();
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  // The acceptor is gone, so the lists below no longer grow.
  for (auto& c : connections_) c->interrupt();
  for (auto& t : scripts_) t.join();
}

void RawServer::accept_loop() {
  for (;;) {
    pollfd p[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    auto& conn = *connections_.emplace_back(std::make_unique<RawConnection>(fd));
    const int index = static_cast<int>(scripts_.size());
    scripts_.emplace_back([this, &conn, index] { run_script(conn, index); });
    accepted_cv_.notify_all();
  }
}

void RawServer::run_script(RawConnection& conn, int index) {
  try {
    script_(conn, index);
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    errors_.push_back(e.what());
  } catch (...) {
    std::lock_guard lock(mutex_);
    errors_.push_back("script " + std::to_string(index) + " threw a non-std::exception");
  }
  conn.close();
}

std::string RawServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

int RawServer::connections_accepted() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(connections_.size());
}

std::vector<std::string> RawServer::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool RawServer::wait_for_connections(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return accepted_cv_.wait_for(lock, timeout, [&] { return static_cast<int>(connections_.size()) >= n; });
}

}  // namespace rebound::testing
