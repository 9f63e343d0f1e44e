// Generates the self-signed certificate a TLS Server presents when no
// cert_file is given: EC P-256, SHA-256, valid from an hour ago for a year,
// SAN IP:127.0.0.1, IP:::1, DNS:localhost, CA:TRUE so that clients can trust
// it directly as its own CA (--cacert).
#pragma once

#include <string>

namespace rebound::server::detail {

struct PemPair {
  std::string certificate;
  std::string private_key;
};

/// Throws std::runtime_error when OpenSSL fails.
PemPair generate_self_signed_certificate();

}  // namespace rebound::server::detail
