// The production Connector: dial with net::Dial, then build the h1 or h2
// connection the negotiated protocol calls for.
#include "pool/connector.hpp"

#include "h1/h1_connection.hpp"
#include "h2/h2_connection.hpp"

namespace rebound::pool {
namespace {

class NetworkConnector final : public Connector {
 public:
  NetworkConnector(asio::any_io_executor executor, const Options& options, std::shared_ptr<net::TlsContext> tls)
      : executor_(std::move(executor)), options_(options), tls_(std::move(tls)) {}

  std::shared_ptr<net::Dial> dial(const Url& origin, net::DialHandler done) override {
    return net::Dial::start(executor_, origin, options_, tls_, std::move(done));
  }

  std::shared_ptr<Connection> connect(ConnectionOwner& owner, std::uint64_t id, net::DialResult dialed) override {
    switch (dialed.protocol) {
      case Protocol::http1: return h1::make_connection(owner, id, std::move(dialed.stream), options_);
      case Protocol::http2: return h2::make_connection(owner, id, std::move(dialed.stream), options_);
    }
    return nullptr;
  }

 private:
  asio::any_io_executor executor_;
  const Options& options_;
  std::shared_ptr<net::TlsContext> tls_;
};

}  // namespace

std::unique_ptr<Connector> make_network_connector(asio::any_io_executor executor, const Options& options,
                                                  std::shared_ptr<net::TlsContext> tls) {
  return std::make_unique<NetworkConnector>(std::move(executor), options, std::move(tls));
}

}  // namespace rebound::pool
