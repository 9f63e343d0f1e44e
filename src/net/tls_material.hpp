// The TLS material a Client's handshakes use - trusted CAs and the client
// certificate chain with its key, from files or memory - loaded into a
// fresh OpenSSL context with an error that names the file and the reason,
// and the files' stamps that tell a reload whether anything changed.
#pragma once

#include <rebound/options.hpp>

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rebound::net {

/// A context built from TlsOptions. `needs_system_store`: verification is
/// on and no CA was given, so the system store must be loaded before the
/// first handshake (left to then: ~40 ms that an h2c client never pays).
struct TlsMaterial {
  explicit TlsMaterial(boost::asio::ssl::context c) : context(std::move(c)) {}
  boost::asio::ssl::context context;
  bool needs_system_store = false;
};

/// Builds the material. Throws rebound::Exception (errc::tls_configuration)
/// for an unreadable or malformed CA, certificate or key, a certificate
/// without its key or the reverse, an encrypted key, or a key that does not
/// match the certificate.
std::shared_ptr<TlsMaterial> load_tls_material(const TlsOptions& tls);

/// What a file looked like when last loaded: a rotation (a new file moved in
/// place, a symlink swapped, the file rewritten) changes it.
struct FileStamp {
  std::string path;
  bool exists = false;
  ino_t inode = 0;
  off_t size = 0;
  long long mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};
/// The stamps of ca_file, cert_file and key_file (those that are set).
std::vector<FileStamp> stamp_tls_files(const TlsOptions& tls);

}  // namespace rebound::net
