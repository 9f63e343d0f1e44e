// The client's TLS configuration: one OpenSSL context shared by every dial
// of a Client, with its trust store loaded only when a dial first needs it.
// Loading the system store parses ~150 certificates (~40 ms); a client that
// speaks h2c or does not verify (insecure) never pays for it.
#pragma once

#include <rebound/options.hpp>

#include <boost/asio/ssl/context.hpp>

#include <mutex>

namespace rebound::net {

namespace asio = boost::asio;

class TlsContext {
 public:
  /// Throws rebound::Exception (tls_handshake_failed) when Options::tls.ca_file
  /// cannot be read: an explicit CA file is checked at once, not at first use.
  explicit TlsContext(const Options& options);

  /// The context, ready for a handshake (trust store loaded if verification
  /// is on). Thread-safe: any I/O thread may call it, the store loads once.
  asio::ssl::context& for_handshake();

 private:
  asio::ssl::context context_;
  bool needs_system_store_ = false;
  std::once_flag system_store_loaded_;
};

}  // namespace rebound::net
