// Who is at the other end of a connection, as TLS proved it: the subject CN
// of a client certificate that verified against ServerOptions::client_ca_file
// (the user name a Kubernetes API server takes from it). Plain TCP, and TLS
// without a verified certificate, prove no one: "".
#pragma once

#include <string>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "socket_close.hpp"

namespace rebound::server::detail {

inline std::string peer_common_name(tcp::socket&) { return {}; }

inline std::string peer_common_name(TlsStream& stream) {
  SSL* ssl = stream.native_handle();
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) < 0) return {};
  return cn;
}

}  // namespace rebound::server::detail
