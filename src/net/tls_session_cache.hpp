// TLS session resumption for a Client's dials: the sessions (TLS 1.3
// tickets, TLS 1.2 sessions) its servers issued, each under the key of the
// dial that received it - origin, SNI name, verification setting and the
// TLS material's generation (which names the client certificate and the
// trusted CAs). A new dial with the same key offers the session, so its
// handshake is abbreviated when the server agrees. The TlsContext clears
// the cache when the material reloads: a rotated client certificate never
// resumes as the old identity.
//
// Thread-safe: dials on every I/O thread share one cache. Sessions arrive
// through OpenSSL's new-session callback (TLS 1.3 tickets come after the
// handshake, on the connection's first reads), so the SSL object carries
// its key and a weak reference to the cache.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace rebound::net {

class TlsSessionCache : public std::enable_shared_from_this<TlsSessionCache> {
 public:
  /// Sessions kept at most (one per key; a full cache drops the oldest key).
  static constexpr std::size_t max_sessions = 512;

  /// Turns on client session caching in `ctx` and routes its new sessions
  /// to the cache their SSL object names (see prepare). Once per SSL_CTX.
  static void enable(SSL_CTX* ctx);

  /// Before a handshake: offers the session cached under `key` (if any
  /// and still resumable) and tags `ssl` so that the sessions the server
  /// issues on it are stored under `key`. True when one was offered.
  bool prepare(SSL* ssl, const std::string& key);
  /// Drops `key`'s session (its handshake failed: do not offer it again).
  void forget(const std::string& key);
  /// Drops every session (the TLS material changed).
  void clear();
  std::size_t size() const;

 private:
  struct SessionFree {
    void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
  };
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  void store(const std::string& key, SSL_SESSION* session);

  mutable std::mutex mutex_;
  std::map<std::string, std::pair<std::uint64_t, std::unique_ptr<SSL_SESSION, SessionFree>>> sessions_;
  std::uint64_t stored_ = 0;  // insertion counter: the oldest key goes first
};

}  // namespace rebound::net
