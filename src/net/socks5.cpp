// SOCKS5 messages and handshake; see socks5.hpp.
#include "net/socks5.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <memory>

namespace rebound::net::socks5 {
namespace {

namespace asio = boost::asio;
constexpr std::uint8_t version = 5;
constexpr std::uint8_t no_auth = 0;
constexpr std::uint8_t user_pass = 2;
constexpr std::uint8_t no_acceptable = 0xFF;

// One handshake: greeting, optional authentication, CONNECT, reply.
class Handshake : public std::enable_shared_from_this<Handshake> {
 public:
  Handshake(asio::ip::tcp::socket& socket, const ProxyUrl& proxy, std::string host, std::uint16_t port,
            Handler done)
      : socket_(socket), proxy_(proxy), host_(std::move(host)), port_(port), done_(std::move(done)) {}

  void start() {
    credentials_ = !proxy_.user.empty() || !proxy_.password.empty();
    send(greeting(credentials_), [](Handshake& h) { h.read_method(); });
  }

 private:
  using Next = void (*)(Handshake&);

  void send(std::string bytes, Next next) {
    out_ = std::move(bytes);
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this(), next](error_code ec, std::size_t) {
      if (ec) return self->io_failed(ec);
      next(*self);
    });
  }
  void receive(std::size_t n, Next next) {
    in_.resize(n);
    asio::async_read(socket_, asio::buffer(in_), [self = shared_from_this(), next](error_code ec, std::size_t) {
      if (ec) return self->io_failed(ec);
      next(*self);
    });
  }

  void read_method() {
    receive(2, [](Handshake& h) {
      std::uint8_t method = 0;
      if (Error e = check_method({h.byte(0), h.byte(1)}, h.credentials_, method)) return h.finish(std::move(e));
      if (method == no_auth) return h.send_connect();
      auto request = auth_request(h.proxy_.user, h.proxy_.password);
      if (!request) return h.finish(request.error());
      h.send(std::move(*request), [](Handshake& h2) {
        h2.receive(2, [](Handshake& h3) {
          if (Error e = check_auth({h3.byte(0), h3.byte(1)})) return h3.finish(std::move(e));
          h3.send_connect();
        });
      });
    });
  }

  void send_connect() {
    auto request = connect_request(host_, port_);
    if (!request) return finish(request.error());
    send(std::move(*request), [](Handshake& h) {
      h.receive(5, [](Handshake& h2) {
        auto rest = check_reply_head({h2.byte(0), h2.byte(1), h2.byte(2), h2.byte(3), h2.byte(4)});
        if (!rest) return h2.finish(rest.error());
        h2.receive(*rest, [](Handshake& h3) { h3.finish(Error{}); });
      });
    });
  }

  std::uint8_t byte(std::size_t i) const { return static_cast<std::uint8_t>(in_[i]); }

  void io_failed(error_code ec) {
    if (ec == asio::error::operation_aborted) return finish(Error(ec, "SOCKS5 handshake aborted"));
    finish(Error(errc::proxy_unreachable, "SOCKS5 proxy " + proxy_.display() + ": " +
                                              (ec == asio::error::eof ? std::string("closed the connection")
                                                                      : ec.message()) +
                                              " during the handshake"));
  }

  void finish(Error e) {
    auto done = std::move(done_);
    if (done) done(std::move(e));
  }

  asio::ip::tcp::socket& socket_;
  ProxyUrl proxy_;
  std::string host_;
  std::uint16_t port_;
  Handler done_;
  bool credentials_ = false;
  std::string out_;
  std::string in_;
};

}  // namespace

std::string greeting(bool credentials) {
  if (credentials) return {char(version), 2, char(no_auth), char(user_pass)};
  return {char(version), 1, char(no_auth)};
}

Error check_method(std::array<std::uint8_t, 2> reply, bool credentials, std::uint8_t& method) {
  if (reply[0] != version)
    return Error(errc::proxy_tunnel_refused, "not a SOCKS5 proxy (version " + std::to_string(reply[0]) + ")");
  method = reply[1];
  if (method == no_auth || (method == user_pass && credentials)) return {};
  if (method == no_acceptable || method == user_pass)
    return Error(errc::proxy_auth_required, credentials ? "the SOCKS5 proxy accepts none of our authentication methods"
                                                        : "the SOCKS5 proxy requires a username and password");
  return Error(errc::proxy_auth_required, "the SOCKS5 proxy chose an authentication method we did not offer (" +
                                              std::to_string(method) + ")");
}

Result<std::string> auth_request(std::string_view user, std::string_view password) {
  if (user.size() > 255 || password.size() > 255)
    return Error(errc::invalid_url, "SOCKS5 username and password are limited to 255 bytes each");
  std::string out{char(1), char(user.size())};
  out += user;
  out += char(password.size());
  out += password;
  return out;
}

Error check_auth(std::array<std::uint8_t, 2> reply) {
  if (reply[1] == 0) return {};
  return Error(errc::proxy_auth_required, "the SOCKS5 proxy rejected the username and password");
}

Result<std::string> connect_request(std::string_view host, std::uint16_t port) {
  std::string out{char(version), 1 /* CONNECT */, 0};
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (!ec && address.is_v4()) {
    out += char(1);
    for (auto b : address.to_v4().to_bytes()) out += char(b);
  } else if (!ec) {
    out += char(4);
    for (auto b : address.to_v6().to_bytes()) out += char(b);
  } else {
    if (host.empty() || host.size() > 255)
      return Error(errc::invalid_url, "SOCKS5 carries host names of 1 to 255 bytes");
    out += char(3);
    out += char(host.size());
    out += host;
  }
  out += char(port >> 8);
  out += char(port & 0xFF);
  return out;
}

const char* reply_text(std::uint8_t rep) noexcept {
  switch (rep) {
    case 0: return "succeeded";
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
  }
  return "unassigned reply code";
}

Result<std::size_t> check_reply_head(std::array<std::uint8_t, 5> head) {
  if (head[0] != version)
    return Error(errc::proxy_tunnel_refused, "not a SOCKS5 reply (version " + std::to_string(head[0]) + ")");
  if (head[1] != 0)
    return Error(errc::proxy_tunnel_refused, "SOCKS5 reply " + std::to_string(head[1]) + ": " + reply_text(head[1]));
  switch (head[3]) {
    case 1: return std::size_t{4 + 2 - 1};
    case 4: return std::size_t{16 + 2 - 1};
    case 3: return std::size_t{head[4]} + 2;
  }
  return Error(errc::proxy_tunnel_refused, "SOCKS5 reply with address type " + std::to_string(head[3]));
}

void async_handshake(asio::ip::tcp::socket& socket, const ProxyUrl& proxy, std::string host, std::uint16_t port,
                     Handler done) {
  std::make_shared<Handshake>(socket, proxy, std::move(host), port, std::move(done))->start();
}

}  // namespace rebound::net::socks5
