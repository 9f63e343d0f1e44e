// The real servers the interop tests talk to - nghttpd, h2o and nginx from
// Debian - each started on 127.0.0.1 with its own scratch directory, docroot,
// self-signed certificate and config, over TLS (h2 via ALPN) or h2c (prior
// knowledge). What each server can and cannot do is spelt out in PeerTraits
// so that a test skips with the reason instead of passing vacuously.
#pragma once

#include "interop/peer_process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace rebound::interop {

enum class PeerKind { nghttpd, h2o, nginx };
enum class Transport { tls, h2c };

const char* to_string(PeerKind k) noexcept;
const char* to_string(Transport t) noexcept;

/// What a test may expect of a server beyond plain HTTP semantics. An empty
/// path means "cannot", and the matching *_reason says why.
struct PeerTraits {
  std::string echo_path;             ///< a POST here is answered 200 with the request body
  std::string no_echo_reason;
  std::string no_content_path;       ///< a GET here is answered 204
  std::string no_no_content_reason;
  int post_to_file_status = 405;     ///< what a POST to a static file is answered
  bool post_to_file_echoes = false;  ///< ... and whether that answer is the request body
  bool offers_http1_over_tls = true; ///< accepts ALPN http/1.1 (or no ALPN) and speaks it
  bool sends_etag = true;            ///< static files carry an ETag (else only Last-Modified)
};

/// The docroot's files: /small.txt and /big.bin (1 MiB, pseudo-random).
const std::string& small_file_body();
const std::string& big_file_body();

/// A server that is running and accepting connections.
class Peer {
 public:
  Peer(PeerKind kind, Transport transport, std::unique_ptr<TempDir> dir, std::uint16_t port,
       std::unique_ptr<PeerProcess> process, std::vector<std::filesystem::path> logs, PeerTraits traits);
  ~Peer();  ///< stops the server, then removes its directory

  PeerKind kind() const noexcept { return kind_; }
  Transport transport() const noexcept { return transport_; }
  /// "https://127.0.0.1:PORT" + path (or http:// for h2c).
  std::string url(const std::string& path) const;
  /// The certificate the server presents (trust it with Options::tls.ca_file).
  std::string ca_file() const { return dir_->file("cert.pem"); }
  const PeerTraits& traits() const noexcept { return traits_; }
  /// The process state and the tails of its logs, for failure messages.
  std::string diagnostics() const;

 private:
  PeerKind kind_;
  Transport transport_;
  std::unique_ptr<TempDir> dir_;
  std::uint16_t port_;
  std::unique_ptr<PeerProcess> process_;
  std::vector<std::filesystem::path> logs_;
  PeerTraits traits_;
};

/// Either a running peer, or why there is none (not installed, would not
/// start: with its log tail) for GTEST_SKIP().
struct PeerStart {
  std::unique_ptr<Peer> peer;
  std::string skip_reason;
};

/// Extra server settings a test may ask for.
struct PeerOptions {
  /// TLS only, nginx only: require a client certificate issued by this CA
  /// (ssl_verify_client on). GET /whoami answers the verified subject.
  std::string client_ca_file;
  /// nginx only: modules to load (paths), and directives added to its
  /// server block (locations, gzip, brotli...).
  std::vector<std::string> nginx_modules;
  std::string nginx_server_config;
  /// Extra files for the docroot: name, contents.
  std::vector<std::pair<std::string, std::string>> docroot_files;
};

/// Starts `kind` speaking `transport` on a free loopback port; waits (at
/// most ~15 s per attempt, 3 attempts when the port was taken meanwhile)
/// until it accepts connections.
PeerStart start_peer(PeerKind kind, Transport transport, const PeerOptions& options = {});

}  // namespace rebound::interop
