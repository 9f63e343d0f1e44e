// The certificate and key a TLS Server presents: loaded from the options'
// PEM files, or generated (self-signed) and written to a temporary file so
// that certificate_file() can be passed to clients as a CA file. The store
// lives as long as the Server, so restart() keeps serving the same
// certificate, and it deletes the temporary file it wrote.
#pragma once

#include <memory>
#include <string>

#include "rebound/server/server.hpp"

namespace rebound::server::detail {

class CertificateStore {
 public:
  /// Throws std::runtime_error when a file cannot be read or written.
  static std::unique_ptr<CertificateStore> from_options(const ServerOptions& options);
  ~CertificateStore();
  CertificateStore(const CertificateStore&) = delete;
  CertificateStore& operator=(const CertificateStore&) = delete;

  const std::string& certificate_pem() const { return certificate_; }
  const std::string& private_key_pem() const { return private_key_; }
  const std::string& certificate_file() const { return file_; }

 private:
  CertificateStore() = default;

  std::string certificate_;
  std::string private_key_;
  std::string file_;
  bool owns_file_ = false;  ///< a temporary file we wrote and must delete
};

}  // namespace rebound::server::detail
