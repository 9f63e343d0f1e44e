// Credentials: what a Client adds to each request for one origin (a bearer
// token, basic auth, a token from an exec plugin...), and the sources that
// produce them.
//
// The Client asks its CredentialSource for the header fields of each
// request to Options::credentials.origin and of no other origin (another
// URL, or an absolute URL the caller builds from a Location header, never
// carries them). A field the request already has is left as the caller set
// it. Credential values never appear in events, errors or dump_pools().
//
// When the origin answers 401 to a request that carried credentials, the
// Client asks the source once more with `rejected` set to what was sent
// (a source that caches - a token file, an exec plugin - refreshes then)
// and, if the answer differs and the request's body can be sent again,
// resends the request once. The second 401 is the response.
//
// Errors: a source that cannot produce credentials completes with an Error
// (errc::credentials_failed, its where() naming the source and why); the
// request then fails with it, reached() == not_sent.
// Thread safety: a source is shared by every I/O thread of a Client, and
// may be shared by several Clients: implementations must be thread-safe.
#pragma once

#include <rebound/error.hpp>
#include <rebound/export.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rebound {

/// The header fields one request carries for authentication.
struct Credential {
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-case
  friend bool operator==(const Credential&, const Credential&) = default;
};

class REBOUND_API CredentialSource {
 public:
  virtual ~CredentialSource();
  /// Produces the credential for the next request. `rejected`: the
  /// credential the origin just answered 401 to (refresh if it is still
  /// the current one); nullopt for an ordinary request. Calls `done`
  /// exactly once, inline or later from any thread. Must not block the
  /// calling (I/O) thread for long: a source that runs a process does it
  /// on a thread of its own.
  virtual void fetch(const std::optional<Credential>& rejected,
                     std::function<void(Result<Credential>)> done) = 0;
};

/// Options::credentials: the source and the one origin it belongs to.
struct CredentialOptions {
  std::shared_ptr<CredentialSource> source;
  /// A URL of the origin the credentials belong to ("https://host:6443",
  /// a kubeconfig's server; any path is ignored): requests whose scheme,
  /// host and port all match carry them. Required when `source` is set: the
  /// Client refuses to start (rebound::Exception, errc::invalid_request)
  /// without a valid one, rather than send credentials everywhere.
  std::string origin;
};

namespace credentials {

/// "authorization: Bearer <token>", always the same.
REBOUND_API std::shared_ptr<CredentialSource> bearer(std::string token);
/// "authorization: Basic base64(user:password)".
REBOUND_API std::shared_ptr<CredentialSource> basic(std::string user, std::string password);
/// A bearer token read from `path` (surrounding white space trimmed), read
/// again when older than `reread_every` (client-go: one minute) and at once
/// after a 401, so a rotated service-account token is picked up. A file that
/// cannot be read or is empty fails the request with credentials_failed
/// naming the file; once read, a later failed re-read keeps the last token.
REBOUND_API std::shared_ptr<CredentialSource> bearer_file(
    std::string path, std::chrono::seconds reread_every = std::chrono::seconds(60));

}  // namespace credentials

}  // namespace rebound
