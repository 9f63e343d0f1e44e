// CONNECT through an HTTP proxy on Beast; see proxy_tunnel.hpp.
#include "net/proxy_tunnel.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>

namespace rebound::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(asio::ip::tcp::socket& socket, const ProxyUrl& proxy, TunnelHandler done)
      : socket_(socket), proxy_(proxy), done_(std::move(done)) {}

  void start(const std::string& host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    const std::string authority = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    request_.method(http::verb::connect);
    request_.target(authority);
    request_.version(11);
    request_.set(http::field::host, authority);
    request_.set(http::field::user_agent, "rebound/0.1");
    if (auto auth = proxy_basic_authorization(proxy_); !auth.empty())
      request_.set(http::field::proxy_authorization, auth);
    http::async_write(socket_, request_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->io_failed(ec);
      self->read_answer();
    });
  }

 private:
  void read_answer() {
    // The answer to CONNECT has no body we want: a 2xx turns the connection
    // into the tunnel at the end of its header; any other closes it here.
    parser_.skip(true);
    parser_.header_limit(16 * 1024);
    http::async_read_header(socket_, buffer_, parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->io_failed(ec);
      self->on_answer();
    });
  }

  void on_answer() {
    const auto& answer = parser_.get();
    if (Error e = classify_connect_status(answer.result_int(), answer.reason(), proxy_)) return finish(std::move(e));
    if (buffer_.size() > 0)
      return finish(Error(errc::protocol_error, "proxy " + proxy_.display() + " sent " +
                                                    std::to_string(buffer_.size()) +
                                                    " byte(s) into the tunnel before the client spoke"));
    finish(Error{});
  }

  void io_failed(error_code ec) {
    if (ec == asio::error::operation_aborted) return finish(Error(ec, "CONNECT aborted"));
    std::string what = ec == asio::error::eof || ec == http::error::end_of_stream ? "closed the connection"
                                                                                    : ec.message();
    if (ec.category() == make_error_code(http::error::partial_message).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return finish(Error(errc::protocol_error, "proxy " + proxy_.display() + ": malformed answer to CONNECT (" +
                                                    what + ")"));
    finish(Error(errc::proxy_unreachable, "proxy " + proxy_.display() + " " + what + " before answering CONNECT"));
  }

  void finish(Error e) {
    auto done = std::move(done_);
    if (done) done(std::move(e));
  }

  asio::ip::tcp::socket& socket_;
  ProxyUrl proxy_;
  TunnelHandler done_;
  http::request<http::empty_body> request_;
  http::response_parser<http::empty_body> parser_;
  beast::flat_buffer buffer_;
};

}  // namespace

Error classify_connect_status(unsigned status, std::string_view reason, const ProxyUrl& proxy) {
  if (status >= 200 && status < 300) return {};
  const std::string said = "proxy " + proxy.display() + " answered CONNECT with " + std::to_string(status) +
                           (reason.empty() ? "" : " \"" + std::string(reason) + "\"");
  // Only the proxy answers a CONNECT, so its 401 means our credentials too
  // (tinyproxy answers 401 to wrong ones, 407 to none).
  if (status == 407 || status == 401)
    return Error(errc::proxy_auth_required,
                 said + (proxy.user.empty() ? " (no credentials given)" : " (the credentials were refused)"));
  return Error(errc::proxy_tunnel_refused, said);
}

void async_connect_tunnel(asio::ip::tcp::socket& socket, const ProxyUrl& proxy, const std::string& host,
                          std::uint16_t port, TunnelHandler done) {
  std::make_shared<Tunnel>(socket, proxy, std::move(done))->start(host, port);
}

}  // namespace rebound::net
