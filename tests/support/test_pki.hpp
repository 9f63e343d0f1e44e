// A throwaway PKI for TLS tests, made with the openssl command: a CA,
// client certificates it issued (with an intermediate when asked), server
// certificates for DNS names, an encrypted key, and certificates from a CA
// nobody trusts.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rebound::testing {

class TestPki {
 public:
  /// Makes a fresh directory and a CA named `ca_name` in it. Throws
  /// std::runtime_error when openssl fails.
  explicit TestPki(const std::string& ca_name = "rebound-test-ca");
  ~TestPki();  ///< removes the directory
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  struct Issued {
    std::string cert;  ///< PEM file: the leaf, then the intermediate if any
    std::string key;   ///< PEM file: the leaf's unencrypted key
  };
  /// A client certificate with subject CN=`cn`, issued by this CA (through
  /// an intermediate CA when `via_intermediate`), files named after `name`.
  Issued issue_client(const std::string& name, const std::string& cn, bool via_intermediate = false);
  /// A server certificate for `dns_names` (subjectAltName DNS entries, or IP
  /// entries for dotted-quad addresses; the first is also the CN), issued
  /// by this CA, files named after `name`.
  Issued issue_server(const std::string& name, const std::vector<std::string>& dns_names);
  /// The same key as `issued`, encrypted with a pass phrase.
  std::string encrypt_key(const Issued& issued, const std::string& name);

  std::string ca_file() const { return (dir_ / "ca.pem").string(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  Issued issue_leaf(const std::string& name, const std::string& cn, const std::string& extensions,
                    bool via_intermediate);

  std::filesystem::path dir_;
};

/// The whole content of a file.
std::string read_file(const std::string& path);

}  // namespace rebound::testing
