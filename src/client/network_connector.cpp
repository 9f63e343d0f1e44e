// The production Connector; see network_connector.hpp.
#include "client/network_connector.hpp"

#include "h1/h1_connection.hpp"
#include "h2/h2_connection.hpp"

namespace rebound::client {
namespace {

class NetworkConnector final : public pool::Connector {
 public:
  NetworkConnector(boost::asio::any_io_executor executor, const Options& options, std::shared_ptr<net::TlsContext> tls)
      : executor_(std::move(executor)), options_(options), tls_(std::move(tls)) {}

  std::shared_ptr<net::Dial> dial(const Url& origin, net::DialHandler done) override {
    return net::Dial::start(executor_, origin, options_, tls_, std::move(done), &proxies_);
  }

  std::shared_ptr<conn::Connection> connect(conn::ConnectionOwner& owner, std::uint64_t id, net::DialResult dialed) override {
    switch (dialed.protocol) {
      case Protocol::http1: return h1::make_connection_via(owner, id, std::move(dialed.stream), options_, std::move(dialed.forward));
      case Protocol::http2: return h2::make_connection(owner, id, std::move(dialed.stream), options_);
    }
    return nullptr;
  }

 private:
  boost::asio::any_io_executor executor_;
  const Options& options_;
  std::shared_ptr<net::TlsContext> tls_;
  const net::ProxySelector proxies_{options_.proxy};  // the environment, read once per Client
};

}  // namespace

std::unique_ptr<pool::Connector> make_network_connector(boost::asio::any_io_executor executor, const Options& options,
                                                  std::shared_ptr<net::TlsContext> tls) {
  return std::make_unique<NetworkConnector>(std::move(executor), options, std::move(tls));
}

}  // namespace rebound::client
