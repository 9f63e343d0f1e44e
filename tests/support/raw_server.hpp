// A scripted raw TCP server for tests that must put exact bytes on the wire:
// hostile or broken HTTP servers, and precise HTTP/2 frame orderings that a
// real server would never produce.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rebound::testing {

/// One accepted connection, blocking I/O with timeouts, used from the script's
/// own thread. Bytes read past a delimiter are kept for the next read, so
/// read_until / read_exactly / read_some compose without losing data.
class RawConnection {
 public:
  explicit RawConnection(int fd);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Whatever is available (blocks up to `timeout` for at least one byte); "" on EOF/timeout.
  std::string read_some(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Everything up to and including `delimiter`; throws std::runtime_error on EOF/timeout.
  std::string read_until(std::string_view delimiter,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Exactly n bytes; throws std::runtime_error on EOF/timeout.
  std::string read_exactly(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// All of `bytes` (MSG_NOSIGNAL); false if the peer is gone.
  bool write(std::string_view bytes);
  /// Closes with FIN after everything written, then waits (up to 2 s) for
  /// the peer's FIN, discarding its bytes: unread input must not turn the
  /// close into an RST that loses the last bytes written.
  void close();
  /// Closes with RST (SO_LINGER 0), as a crashed server's kernel would.
  void reset();
  int fd() const { return fd_; }
  /// Total bytes received from the socket so far.
  std::size_t bytes_read() const { return bytes_read_; }

 private:
  friend class RawServer;
  /// From the server's destructor: wakes a script blocked in a read or write.
  void interrupt();
  /// Appends one recv() to the buffer; false on EOF/timeout/error.
  bool fill(std::chrono::steady_clock::time_point deadline);
  std::string take(std::size_t n);

  mutable std::mutex fd_mutex_;  // close/reset (script) vs interrupt (destructor)
  int fd_;
  std::string buffer_;
  std::size_t bytes_read_ = 0;
};

/// Listens on 127.0.0.1:0 and runs `script(conn, index)` on a thread of its own
/// for each accepted connection (index 0, 1, 2...). When a script returns, its
/// connection is closed with FIN unless it already closed or reset it. The
/// destructor stops accepting, interrupts every connection (unblocking reads)
/// and joins every thread. A script's exceptions are caught and kept in errors().
class RawServer {
 public:
  using Script = std::function<void(RawConnection&, int index)>;
  explicit RawServer(Script script);
  ~RawServer();
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:PORT" + path.
  std::string url(std::string_view path = "/") const;
  int connections_accepted() const;
  /// The what() of every exception a script threw.
  std::vector<std::string> errors() const;
  /// Blocks until `n` connections were accepted or `timeout` passed; whether reached.
  bool wait_for_connections(int n, std::chrono::milliseconds timeout);

 private:
  void accept_loop();
  void run_script(RawConnection& conn, int index);

  Script script_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: the destructor's way into the accept poll()
  std::uint16_t port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable accepted_cv_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<RawConnection>> connections_;
  std::vector<std::thread> scripts_;
  std::vector<std::string> errors_;
  std::thread acceptor_;
};

}  // namespace rebound::testing
