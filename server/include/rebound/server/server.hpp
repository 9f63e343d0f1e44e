// The embedded HTTP server used by rebound's tests, `rebound serve`, the demo
// and the benchmarks: HTTP/1.1 over TCP and TLS, HTTP/2 over TLS (ALPN h2)
// and h2c (prior knowledge, detected from the client preface on plain TCP),
// with fault injection: abrupt kill, graceful stop, GOAWAY with a chosen
// last-stream-id, refused and reset streams, restart on the same port.
//
// Thread safety: every public member may be called from any thread. The
// server runs its own I/O thread(s) between start() and stop()/kill().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rebound/server/response_stream.hpp"

namespace rebound::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;          ///< 0 picks a free port; restart() reuses the one bound
  bool tls = false;                ///< TLS with ALPN h2 and http/1.1
  bool http2 = true;               ///< offer h2 in ALPN; accept h2c prior knowledge on plain TCP
  std::string cert_file;           ///< PEM; empty: a self-signed cert for 127.0.0.1/localhost is generated
  std::string key_file;            ///< PEM private key for cert_file
  std::uint32_t max_concurrent_streams = 100;  ///< HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
  std::uint32_t initial_window_size = 65535;   ///< HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE
  unsigned threads = 1;            ///< I/O threads
  /// Close idle HTTP/1.1 keep-alive connections after this long (0: never).
  std::chrono::milliseconds h1_idle_timeout{0};
  /// When set, one line "METHOD TARGET REQUEST-ID" per request is appended
  /// to this file just before its handler runs (REQUEST-ID: the
  /// x-request-id header, or "-"), each line with one write(2) on an
  /// O_APPEND descriptor: the record survives a SIGKILL of the server, so a
  /// test can count what really ran. start() throws if it cannot be opened.
  std::string request_log;

  // --- authentication, as a Kubernetes API server does it ---
  /// With tls: require a client certificate verified against this PEM CA
  /// bundle; the TLS handshake fails without one. A verified certificate's
  /// subject CN is ServerRequest::user when the request carries no
  /// Authorization header. start() throws without tls.
  std::string client_ca_file;
  /// When any of the three lists below is non-empty, requests under /api and
  /// /apis (path "/api", "/apis" or below them; never the built-in test
  /// routes) must authenticate - by an Authorization header that matches
  /// one, or (no such header) by a verified client certificate - or are
  /// answered 401 with a Kubernetes Status (reason Unauthorized) before any
  /// handler runs. A header that matches none is 401 even with a certificate.
  std::vector<std::string> bearer_tokens;     ///< "Authorization: Bearer T": user "admin", full access
  std::vector<std::string> read_only_tokens;  ///< "Bearer T": user "reader", ServerRequest::read_only
  std::vector<std::string> basic_auth;        ///< "user:password" ("Authorization: Basic ..."): that user
};

/// A request as a route handler sees it.
struct ServerRequest {
  std::string method;
  std::string target;                 ///< path and query
  std::string path;                   ///< path only
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-case
  std::string body;
  std::string protocol;               ///< "HTTP/1.1" or "HTTP/2"
  std::uint64_t connection_id = 0;    ///< server-side connection number
  /// Who sent it (see ServerOptions' authentication): the token's user, the
  /// basic-auth user name or the client certificate's CN; empty when
  /// nothing authenticated it (no authentication configured, or a route
  /// outside /api and /apis).
  std::string user;
  /// Authenticated by a read-only token: routes should refuse writes (403).
  bool read_only = false;
  /// First value of a header (name lower-case), or empty.
  std::string header(std::string_view name) const;
};

/// A handler's answer.
struct ServerResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  ///< wait this long before answering (without blocking the server)
  /// When set, `body` is ignored and the body is what the producer writes to
  /// this stream, sent as it comes (HTTP/1.1: chunked, and the connection
  /// closes after it; HTTP/2: DATA frames). See response_stream.hpp.
  std::shared_ptr<ResponseStream> stream = nullptr;
};

using Handler = std::function<ServerResponse(const ServerRequest&)>;

/// Counters, for tests to assert what reached the server.
struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t requests = 0;                          ///< requests whose handler ran
  std::map<std::string, std::uint64_t> requests_by_method;
  std::map<std::string, std::uint64_t> requests_by_path;
  std::uint64_t h2_connections = 0;
  std::uint64_t h1_connections = 0;
};

/// Writes a new self-signed certificate (SAN 127.0.0.1 and localhost) and
/// its private key as PEM files, for a server that must keep one identity
/// across processes (pass them as ServerOptions::cert_file/key_file).
/// Throws std::runtime_error when a file cannot be written.
void write_self_signed_certificate(const std::string& cert_path, const std::string& key_path);

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();  ///< kill()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds (SO_REUSEADDR) and starts serving; throws std::runtime_error on failure.
  void start();
  /// Graceful: stop accepting, send GOAWAY (h2) / close idle h1 connections,
  /// let in-flight requests finish (at most `grace`), then close everything.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  /// Abrupt, as if the process were killed: closes the listener and every
  /// connection at once with RST (SO_LINGER 0), no GOAWAY, no response.
  void kill();
  /// start() again on the same port (after stop() or kill()).
  void restart();
  bool running() const;

  std::uint16_t port() const;
  /// "http://127.0.0.1:P" or "https://127.0.0.1:P".
  std::string url() const;
  /// PEM of the certificate served (self-signed: also its own CA).
  std::string certificate_pem() const;
  /// Path of a file holding certificate_pem() (for --cacert style options).
  std::string certificate_file() const;

  /// Adds a route: exact path, or prefix when `path` ends with '*'. Routes
  /// added later win over the built-in ones: / /bytes/N /delay/MS
  /// /status/CODE /echo.
  void route(std::string path, Handler handler);

  // --- fault injection (any thread, takes effect at once) ---
  /// Send GOAWAY on every HTTP/2 connection with this last-stream-id
  /// (negative: the highest stream id seen on that connection) and the given
  /// error code; the connection then stops taking streams above it and closes
  /// when the rest are done. Streams above it get no response.
  void send_goaway(std::int32_t last_stream_id = -1, std::uint32_t error_code = 0);
  /// Send SETTINGS_INITIAL_WINDOW_SIZE = `size` on every open HTTP/2
  /// connection mid-connection: the peer must shrink (or grow) the send
  /// windows of its open streams by the difference (RFC 9113 6.9.2).
  void change_initial_window_size(std::uint32_t size);
  /// While on, every new HTTP/2 stream is answered with RST_STREAM(REFUSED_STREAM)
  /// and HTTP/1.1 requests with a closed connection before any handler runs.
  void refuse_streams(bool on);
  /// The next `count` HTTP/2 streams are reset with RST_STREAM(error_code)
  /// after their request is read (the handler runs: counted in stats).
  void reset_next_streams(int count, std::uint32_t error_code = 2 /* INTERNAL_ERROR */);
  /// The next `count` requests (either protocol) have their connection
  /// closed abruptly (RST) after the request is read and counted, before any
  /// response byte: "connection reset after the request was written".
  void drop_next_requests(int count);
  /// The next `count` requests are answered `status` (429 or 503) with
  /// "Retry-After: <retry_after_seconds>" instead of by their routes.
  void answer_busy_next(int count, int retry_after_seconds = 1, int status = 429);

  ServerStats stats() const;
  void reset_stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebound::server
