// Resolve + connect + proxy handshake + TLS for one new connection. One
// object per dial; the connect_timeout covers every step, so a proxy that
// accepts and never answers is bounded like a silent server. Every address
// of the name is raced (net/address_race.hpp); each dial resolves anew.
#include "net/dialer.hpp"

#include "net/address_race.hpp"

#include "net/proxy_tunnel.hpp"
#include "net/socks5.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cctype>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace rebound::net {
namespace {

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char alpn_h2_h1[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char alpn_h1[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char alpn_h2[] = {2, 'h', '2'};

class DialOp final : public Dial, public std::enable_shared_from_this<DialOp> {
 public:
  DialOp(asio::any_io_executor ex, const Url& url, const Options& options,
         std::shared_ptr<TlsContext> tls, DialHandler handler)
      : url_(url), options_(options), tls_context_(std::move(tls)), handler_(std::move(handler)),
        resolver_(ex), socket_(ex), timer_(ex) {}

  void run(const ProxySelector* proxies) {
    timer_.expires_after(options_.connect_timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->on_timeout();
    });
    if (proxies) {
      auto chosen = proxies->for_url(url_);
      if (!chosen) {
        asio::post(resolver_.get_executor(), [self = shared_from_this(), e = chosen.error()] {
          self->fail(e.code(), e.where());
        });
        return;
      }
      proxy_ = std::move(*chosen);
    }
    // socks5:// (not socks5h) sends the proxy an address resolved here.
    if (proxy_ && proxy_->kind == ProxyUrl::Kind::socks5 && !is_address(url_.host())) {
      if (const auto* fixed = find_resolve_override(options_, url_.host(), url_.port())) {
        if (fixed->addresses.empty() || !is_address(fixed->addresses.front()))
          return post_fail_resolve("--resolve gives no valid address for \"" + url_.host() + "\"");
        target_address_ = fixed->addresses.front();
        return dial_next_hop();
      }
      resolver_.async_resolve(url_.host(), std::to_string(url_.port()),
                              [self = shared_from_this()](error_code ec, tcp::resolver::results_type r) {
                                if (self->done_) return;
                                if (ec || r.empty()) return self->fail_resolve(url_host_error(self->url_, ec));
                                self->target_address_ = r.begin()->endpoint().address().to_string();
                                self->dial_next_hop();
                              });
      return;
    }
    dial_next_hop();
  }

  bool reached_peer() const noexcept override { return reached_peer_; }
  bool racing() const noexcept override { return race_ && race_->untried_left(); }
  void cancel() override {
    asio::post(resolver_.get_executor(), [self = shared_from_this()] {
      self->fail(make_error_code(errc::cancelled), "dial cancelled");
    });
  }

 private:
  static bool is_address(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
  }
  static std::string url_host_error(const Url& url, error_code ec) {
    return "\"" + url.host() + "\": " + (ec ? ec.message() : "no addresses");
  }

  std::string where() const {
    return "dialing " + url_.origin() + (proxy_ ? " via " + proxy_->display() : std::string());
  }

  // TCP to the proxy when there is one, else to the origin.
  void dial_next_hop() {
    const std::string& host = proxy_ ? proxy_->host : url_.host();
    const std::uint16_t port = proxy_ ? proxy_->port : url_.port();
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      connect({tcp::endpoint(address, port)});
      return;
    }
    if (const auto* fixed = find_resolve_override(options_, host, port)) {
      std::vector<tcp::endpoint> endpoints;
      for (const auto& a : fixed->addresses) {
        auto parsed = asio::ip::make_address(a, ec);
        if (ec) return post_fail_resolve("--resolve address \"" + a + "\" for \"" + host + "\" is not an IP address");
        endpoints.emplace_back(parsed, port);
      }
      if (endpoints.empty()) return post_fail_resolve("--resolve gives no address for \"" + host + "\"");
      return connect(interleave_families(endpoints));
    }
    resolver_.async_resolve(host, std::to_string(port),
                            [self = shared_from_this()](error_code ec, tcp::resolver::results_type r) {
                              self->on_resolved(ec, std::move(r));
                            });
  }

  // From run(): the handler must not run inside Dial::start.
  void post_fail_resolve(std::string detail) {
    asio::post(resolver_.get_executor(),
               [self = shared_from_this(), d = std::move(detail)]() mutable { self->fail_resolve(std::move(d)); });
  }

  void fail_resolve(std::string detail) { fail(make_error_code(errc::resolve_failed), std::move(detail)); }

  void on_resolved(error_code ec, tcp::resolver::results_type results) {
    if (done_) return;
    if (ec || results.empty()) {
      if (proxy_)
        fail(make_error_code(errc::proxy_unreachable),
             "the proxy's name \"" + proxy_->host + "\" did not resolve: " + (ec ? ec.message() : "no addresses"));
      else
        fail_resolve(url_host_error(url_, ec));
      return;
    }
    std::vector<tcp::endpoint> endpoints;
    for (const auto& r : results) endpoints.push_back(r.endpoint());
    connect(interleave_families(endpoints));
  }

  void connect(std::vector<tcp::endpoint> endpoints) {
    race_ = std::make_shared<AddressRace>(
        socket_.get_executor(), std::move(endpoints), connection_attempt_delay,
        [self = shared_from_this()](error_code ec, tcp::socket socket, std::string detail) {
          self->on_connected(ec, std::move(socket), std::move(detail));
        });
    race_->start();
  }

  void on_connected(error_code ec, tcp::socket socket, std::string detail) {
    if (done_) return;
    if (ec) {
      if (proxy_) fail(make_error_code(errc::proxy_unreachable), "connecting to the proxy: " + detail);
      else if (ec == asio::error::connection_refused) fail(make_error_code(errc::connection_refused), detail);
      else fail(ec, detail);
      return;
    }
    socket_ = std::move(socket);
    reached_peer_ = true;
    failed_addresses_ = std::move(detail);
    boost::system::error_code ignored;
    const auto peer = socket_.remote_endpoint(ignored);
    if (!ignored) {
      peer_address_ = peer.address().is_v6() ? "[" + peer.address().to_string() + "]" : peer.address().to_string();
      peer_address_ += ":" + std::to_string(peer.port());
    }
    apply_socket_options(socket_, options_);
    if (!proxy_) return through_to_origin();
    auto on_tunnel = [self = shared_from_this()](Error e) {
      if (self->done_) return;
      if (e) return self->fail(e.code(), e.where());
      self->through_to_origin();
    };
    switch (proxy_->kind) {
      case ProxyUrl::Kind::http:
        if (!url_.tls() && options_.http_version != HttpVersion::http2_prior_knowledge) {
          // Plain HTTP/1.1 is forwarded: requests go to the proxy in absolute form.
          forward_ = ForwardProxy{true, proxy_basic_authorization(*proxy_)};
          return through_to_origin();
        }
        return async_connect_tunnel(socket_, *proxy_, url_.host(), url_.port(), std::move(on_tunnel));
      case ProxyUrl::Kind::socks5h:
        return socks5::async_handshake(socket_, *proxy_, url_.host(), url_.port(), std::move(on_tunnel));
      case ProxyUrl::Kind::socks5:
        return socks5::async_handshake(socket_, *proxy_, target_address_.empty() ? url_.host() : target_address_,
                                       url_.port(), std::move(on_tunnel));
    }
  }

  // The socket now carries bytes to the origin (directly or tunnelled).
  void through_to_origin() {
    if (!url_.tls()) {
      const Protocol p = options_.http_version == HttpVersion::http2_prior_knowledge ? Protocol::http2
                                                                                     : Protocol::http1;
      succeed(std::make_unique<Stream>(std::move(socket_)), p, {});
      return;
    }
    start_tls();
  }

  void start_tls() {
    try {
      tls_ = std::make_unique<TlsStream>(std::move(socket_),
                                         tls_context_->for_handshake(&tls_generation_)->native_handle());
    } catch (const Exception& e) {
      fail(e.error().code(), e.error().message());
      return;
    }
    SSL* ssl = tls_->native_handle();
    const std::string& name = options_.tls.sni.empty() ? url_.host() : options_.tls.sni;
    boost::system::error_code not_an_address;
    asio::ip::make_address(name, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI is for names, not IP literals
    // A session is resumed only by a dial that would have made it: same
    // origin, name, verification and material (client certificate, CAs).
    session_key_ = url_.origin() + "|" + name + "|" + (options_.tls.verify_peer ? "verify" : "noverify") + "|" +
                   std::to_string(tls_generation_);
    tls_context_->sessions().prepare(ssl, session_key_);
    switch (options_.http_version) {
      case HttpVersion::automatic: SSL_set_alpn_protos(ssl, alpn_h2_h1, sizeof alpn_h2_h1); break;
      case HttpVersion::http1_only: SSL_set_alpn_protos(ssl, alpn_h1, sizeof alpn_h1); break;
      case HttpVersion::http2_prior_knowledge: SSL_set_alpn_protos(ssl, alpn_h2, sizeof alpn_h2); break;
    }
    if (options_.tls.verify_peer) {
      // OpenSSL checks the name during chain verification (RFC 6125 rules,
      // IP literals against IP SANs only).
      SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
      if (not_an_address) {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl, name.c_str());
      } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
      }
    } else {
      SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
    }
    tls_->async_handshake([self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
  }

  void on_handshake(error_code ec) {
    if (done_) return;
    SSL* ssl = tls_->native_handle();
    if (ec) tls_context_->sessions().forget(session_key_);  // never offer it again
    if (ec) {
      const long verify = SSL_get_verify_result(ssl);
      if (is_certificate_rejection(ec)) {
        fail(make_error_code(errc::client_certificate_rejected), ec.message());
      } else if (options_.tls.verify_peer && verify != X509_V_OK) {
        fail(make_error_code(errc::certificate_verify_failed),
             X509_verify_cert_error_string(verify));
      } else if (ec == asio::error::eof || ec == asio::error::connection_reset ||
                 ec == asio::ssl::error::stream_truncated) {
        fail(make_error_code(errc::tls_handshake_failed), "peer closed the connection during the handshake");
      } else {
        fail(make_error_code(errc::tls_handshake_failed), ec.message());
      }
      return;
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    const std::string_view selected(reinterpret_cast<const char*>(alpn), alpn_len);
    Protocol protocol = selected == "h2" ? Protocol::http2 : Protocol::http1;
    if (options_.http_version == HttpVersion::http2_prior_knowledge && protocol != Protocol::http2) {
      fail(make_error_code(errc::protocol_negotiation_failed),
           "server did not select h2 in ALPN (selected \"" + std::string(selected) + "\")");
      return;
    }
    const char* cipher = SSL_get_cipher_name(ssl);
    resumed_ = SSL_session_reused(ssl) == 1;
    succeed(std::make_unique<Stream>(std::move(tls_)), protocol, cipher ? cipher : "");
  }

  void on_timeout() {
    fail(make_error_code(errc::connect_timeout),
         "no connection within " + std::to_string(options_.connect_timeout.count()) + " ms");
  }

  void succeed(std::unique_ptr<Stream> stream, Protocol p, std::string cipher) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    auto handler = std::move(handler_);
    handler(Error{}, DialResult{std::move(stream), p, std::move(cipher), tls_generation_, resumed_,
                                proxy_ ? proxy_->display() : std::string(), std::move(forward_),
                                std::move(peer_address_), std::move(failed_addresses_)});
  }

  void fail(error_code ec, std::string detail) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    resolver_.cancel();
    if (race_) race_->cancel();
    socket_.close(ignored_);
    if (tls_) tls_->socket().close(ignored_);
    auto handler = std::move(handler_);
    handler(Error(ec, where() + ": " + detail, progress::not_sent), DialResult{});
  }

  Url url_;
  const Options& options_;
  std::shared_ptr<TlsContext> tls_context_;
  std::uint64_t tls_generation_ = 0;  // of the material this dial's handshake uses
  std::string session_key_;
  bool resumed_ = false;
  std::string peer_address_, failed_addresses_;
  std::optional<ProxyUrl> proxy_;
  std::string target_address_;  // socks5://: the origin's address, resolved here
  ForwardProxy forward_;
  DialHandler handler_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  std::shared_ptr<AddressRace> race_;
  std::unique_ptr<TlsStream> tls_;
  asio::steady_timer timer_;
  bool done_ = false;
  bool reached_peer_ = false;
  boost::system::error_code ignored_;
};

}  // namespace

const ResolveOverride* find_resolve_override(const Options& options, const std::string& host,
                                             std::uint16_t port) noexcept {
  for (const auto& r : options.resolve)
    if (r.port == port && r.host.size() == host.size() &&
        std::equal(host.begin(), host.end(), r.host.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); }))
      return &r;
  return nullptr;
}

void apply_socket_options(tcp::socket& socket, const Options& options) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (options.tcp_keepalive) {
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    const int fd = socket.native_handle();
    const int idle = static_cast<int>(options.tcp_keepalive_idle.count());
    const int interval = static_cast<int>(options.tcp_keepalive_interval.count());
    const int count = options.tcp_keepalive_count;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  }
  if (options.tcp_user_timeout.count() > 0) {
    const unsigned timeout = static_cast<unsigned>(options.tcp_user_timeout.count());
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof timeout);
  }
}

std::shared_ptr<Dial> Dial::start(asio::any_io_executor executor, const Url& url,
                                  const Options& options, std::shared_ptr<TlsContext> tls,
                                  DialHandler handler, const ProxySelector* proxies) {
  auto op = std::make_shared<DialOp>(std::move(executor), url, options, std::move(tls),
                                     std::move(handler));
  op->run(proxies);
  return op;
}

}  // namespace rebound::net
