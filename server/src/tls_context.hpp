// The server-side TLS context: TLS 1.2+, the store's certificate and key, and
// ALPN selection (h2 preferred when HTTP/2 is on, else http/1.1; a client
// offering neither gets no ALPN and is served HTTP/1.1), and, with a client
// CA, mandatory client certificates verified against it.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "certificate_store.hpp"

namespace rebound::server::detail {

/// `client_ca_file` (PEM, may be empty): require a client certificate that
/// verifies against it; the handshake fails without one. Throws
/// boost::system::system_error when the key, certificate or CA file is unusable.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const CertificateStore& certs, bool offer_h2,
                                                            const std::string& client_ca_file = {});

}  // namespace rebound::server::detail
