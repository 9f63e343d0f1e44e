// Protocol detection: see protocol_detect.hpp.
#include "protocol_detect.hpp"

#include <array>
#include <cstring>
#include <optional>
#include <string_view>

#include <openssl/ssl.h>

#include "sessions.hpp"

namespace rebound::server::detail {

namespace {

namespace asio = boost::asio;
constexpr std::string_view kClientPreface{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24};

class Detector final : public ConnectionHandle, public std::enable_shared_from_this<Detector> {
 public:
  Detector(ServerContext& ctx, tcp::socket socket, std::uint64_t id)
      : ctx_(ctx), socket_(std::move(socket)), linger_(socket_.get_executor()), id_(id) {}
  ~Detector() override { ctx_.registry.remove(id_, this); }

  void start() {
    switch (ctx_.registry.admit(id_, shared_from_this(), socket_.get_executor())) {
      case ConnectionRegistry::Admission::serve: break;
      case ConnectionRegistry::Admission::drain: drain(); return;
      case ConnectionRegistry::Admission::abort: abort(); return;
    }
    if (ctx_.tls) {
      state_ = State::handshaking;
      tls_.emplace(std::move(socket_), *ctx_.tls);
      tls_->async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](boost::system::error_code ec) { self->on_handshake(ec); });
    } else {
      state_ = State::sniffing;
      sniff();
    }
  }

  void abort() override { close(true); }
  // Nothing has been asked of this connection yet: draining it is closing it.
  void drain() override { close(false); }

 private:
  enum class State {
    created,      // not started
    sniffing,     // plain TCP: reading the first bytes
    handshaking,  // TLS handshake in progress
    handed_off,   // a session owns the stream now
    closed,       // closed before a session took over
  };

  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }

  void close(bool reset) {
    switch (state_) {
      case State::handed_off:
      case State::closed: return;
      case State::created:
      case State::sniffing:
      case State::handshaking: break;
    }
    state_ = State::closed;
    reset ? reset_close(socket()) : immediate_close(socket());
  }

  void sniff() {
    socket_.async_read_some(asio::buffer(preface_.data() + got_, preface_.size() - got_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              self->on_sniffed(ec, n);
                            });
  }

  void on_sniffed(boost::system::error_code ec, std::size_t n) {
    if (state_ != State::sniffing) return;
    if (ec) return close(false);
    got_ += n;
    const std::string_view seen(preface_.data(), got_);
    const bool still_preface = kClientPreface.starts_with(seen);
    if (still_preface && got_ < kClientPreface.size()) return sniff();
    state_ = State::handed_off;
    if (still_preface && ctx_.options.http2) {
      run_h2_session(ctx_, std::move(socket_), id_, seen);
    } else {
      run_h1_session(ctx_, std::move(socket_), id_, seen);
    }
  }

  void on_handshake(boost::system::error_code ec) {
    if (state_ != State::handshaking) return;
    if (ec) {
      // The alert (a refused client certificate, say) is on its way; the
      // client's first flight may still be unread, and closing over unread
      // input sends a RST that can destroy the alert before the client
      // reads it. So FIN, and wait (bounded) for the client to close.
      state_ = State::closed;
      lingering_close(tls_->next_layer(), linger_, shared_from_this());
      return;
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(tls_->native_handle(), &alpn, &alpn_len);
    const bool h2 = alpn_len == 2 && std::memcmp(alpn, "h2", 2) == 0;
    state_ = State::handed_off;
    if (h2) {
      run_h2_session(ctx_, std::move(*tls_), id_, {});
    } else {
      run_h1_session(ctx_, std::move(*tls_), id_, {});
    }
  }

  ServerContext& ctx_;
  tcp::socket socket_;
  std::optional<TlsStream> tls_;  // engaged from the handshake on; owns the socket then
  boost::asio::steady_timer linger_;  // bounds the wait after a failed handshake
  const std::uint64_t id_;
  State state_ = State::created;
  std::array<char, 24> preface_{};
  std::size_t got_ = 0;
};

}  // namespace

void serve_connection(ServerContext& ctx, tcp::socket socket, std::uint64_t id) {
  std::make_shared<Detector>(ctx, std::move(socket), id)->start();
}

}  // namespace rebound::server::detail
