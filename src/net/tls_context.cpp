// Builds the client's OpenSSL context; see tls_context.hpp for why the
// system trust store is loaded lazily.
#include "net/tls_context.hpp"

#include <rebound/error.hpp>

namespace rebound::net {

TlsContext::TlsContext(const Options& options) : context_(asio::ssl::context::tls_client) {
  context_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  if (!options.tls.ca_file.empty()) {
    boost::system::error_code ec;
    context_.load_verify_file(options.tls.ca_file, ec);
    if (ec)
      throw Exception(Error(errc::tls_handshake_failed,
                            "cannot load CA file \"" + options.tls.ca_file + "\": " + ec.message()));
  } else {
    needs_system_store_ = options.tls.verify_peer;
  }
}

asio::ssl::context& TlsContext::for_handshake() {
  if (needs_system_store_)
    std::call_once(system_store_loaded_, [this] {
      // A missing system store is not fatal here: verification then fails
      // with certificate_verify_failed, which names the real problem.
      boost::system::error_code ignored;
      context_.set_default_verify_paths(ignored);
    });
  return context_;
}

}  // namespace rebound::net
