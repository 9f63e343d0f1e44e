// A blocking HTTP/1.1 watch client for the Lease watch tests: sends one GET
// on plain TCP to 127.0.0.1, then reads the chunked body line by line (one
// watch event a line), every read bounded by a timeout. It tells a clean end
// (the last chunk) from a cut one (the connection closed or reset first).
#pragma once

#include <boost/json/parse.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace rebound::lease::testing {

class WatchClient {
 public:
  enum class End { open, clean, cut };

  WatchClient(std::uint16_t port, const std::string& target, const std::string& headers = "") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return;
    connected_ = true;
  }
  ~WatchClient() { close(); }
  WatchClient(const WatchClient&) = delete;
  WatchClient& operator=(const WatchClient&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  /// The response's status code (0 when none came within `limit`).
  int status(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!header_done_ && fill(deadline)) {
    }
    return status_;
  }
  const std::string& head() const { return head_; }

  /// The next event line as JSON, or nullopt when none came within `limit`
  /// or the body ended (see end()).
  std::optional<boost::json::object> next(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    status(limit);
    while (true) {
      decode();
      if (const auto nl = body_.find('\n'); nl != std::string::npos) {
        const std::string line = body_.substr(0, nl);
        body_.erase(0, nl + 1);
        auto v = boost::json::parse(line);
        return v.as_object();
      }
      if (end_ != End::open || !fill(deadline)) return std::nullopt;
    }
  }

  /// How the body ended so far (waits up to `limit` for it to end).
  End end(std::chrono::milliseconds limit = std::chrono::seconds(0)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    decode();
    while (end_ == End::open && fill(deadline)) decode();
    return end_;
  }

 private:
  // Reads more bytes; false on timeout or once the connection ended.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || !connected_ || closed_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) <= 0) return false;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      if (end_ == End::open) {
        decode();
        if (end_ == End::open) end_ = End::cut;
      }
      return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    if (!header_done_) {
      const auto blank = raw_.find("\r\n\r\n");
      if (blank != std::string::npos) {
        head_ = raw_.substr(0, blank + 4);
        raw_.erase(0, blank + 4);
        header_done_ = true;
        status_ = std::stoi(head_.substr(9, 3));
        chunked_ = head_.find("Transfer-Encoding: chunked") != std::string::npos;
      }
    }
    return true;
  }

  // Moves whole chunks from raw_ to body_; the last chunk is a clean end.
  void decode() {
    if (!header_done_) return;
    if (!chunked_) {
      body_ += raw_;
      raw_.clear();
      return;
    }
    while (end_ == End::open) {
      const auto crlf = raw_.find("\r\n");
      if (crlf == std::string::npos) return;
      const std::size_t size = std::stoul(raw_.substr(0, crlf), nullptr, 16);
      if (raw_.size() < crlf + 2 + size + 2) return;
      body_.append(raw_, crlf + 2, size);
      raw_.erase(0, crlf + 2 + size + 2);
      if (size == 0) end_ = End::clean;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  bool header_done_ = false;
  bool chunked_ = false;
  int status_ = 0;
  End end_ = End::open;
  std::string head_;
  std::string raw_;   // bytes not yet decoded
  std::string body_;  // decoded body not yet returned as lines
};

}  // namespace rebound::lease::testing
