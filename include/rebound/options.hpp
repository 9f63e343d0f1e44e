// Client-wide settings. Every field has a sane default; a default-constructed
// Options verifies certificates against the system store, speaks HTTP/2 when
// the server offers it over TLS and HTTP/1.1 otherwise.
//
// Thread safety: a value type, copied into the Client at construction.
#pragma once

#include <rebound/credentials.hpp>
#include <rebound/events.hpp>
#include <rebound/redirects.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace rebound {

using namespace std::chrono_literals;

/// Which HTTP version to speak.
enum class HttpVersion : std::uint8_t {
  automatic,         ///< https: ALPN (h2 preferred, http/1.1); http: HTTP/1.1
  http1_only,        ///< never HTTP/2 (ALPN offers only http/1.1)
  http2_prior_knowledge,  ///< http: h2c without upgrade; https: require ALPN h2
};

/// TLS settings. Certificates and keys are PEM, from files or in memory
/// (a kubeconfig's *-data fields, decoded). The Client loads them when it is
/// constructed and throws rebound::Exception (errc::tls_configuration,
/// naming the file and the reason) for a missing or unreadable file, a
/// certificate without its key or the reverse, a key that does not match
/// the certificate, or an encrypted key.
struct TlsOptions {
  bool verify_peer = true;    ///< verify chain and host name (false: insecure, like curl -k)
  std::string ca_file;        ///< PEM bundle to trust instead of the system store
  std::string ca_pem;         ///< PEM bundle to trust, in memory (with ca_file: both are trusted)
  std::string sni;            ///< override the SNI/verification name (default: URL host)
  /// Client certificate (mutual TLS): the leaf first, then any
  /// intermediates, all sent to the server.
  std::string cert_file;
  std::string key_file;       ///< its private key (unencrypted PEM: RSA, EC or Ed25519)
  std::string cert_pem;       ///< the same in memory (instead of cert_file)
  std::string key_pem;        ///< (instead of key_file)
  /// How often ca_file, cert_file and key_file are checked for changes
  /// (client-go: 5 minutes). Changed files are loaded for new connections;
  /// open ones retire within about a second of the load: they take nothing
  /// new, finish what runs on them, then close, so none keeps presenting a
  /// rotated client certificate (client-go closes them). Files that are mid-rotation
  /// or unusable keep the last good material (an event says so). 0: never.
  std::chrono::milliseconds reload_interval = std::chrono::minutes(5);
};

/// Proxies. By default the environment decides, with curl's rules:
/// `http_proxy`/`HTTP_PROXY` for http:// URLs, `https_proxy`/`HTTPS_PROXY`
/// for https:// (lower case first), and `no_proxy`/`NO_PROXY` for the hosts
/// that bypass them. A proxy URL is `http://[user:pass@]host[:port]`
/// (HTTP/1.1 to the proxy: absolute-form requests for http://, a CONNECT
/// tunnel for https:// - TLS and HTTP/2 by ALPN inside it),
/// `socks5h://` (SOCKS5, the proxy resolves the name), or `socks5://`
/// (SOCKS5, the name resolved here); user and password (percent-encoded)
/// become basic auth or SOCKS5 username/password. Without a port: 80 for
/// http, 1080 for SOCKS. A bare `host:port` is taken as http://.
/// `https://` proxies are not supported yet (the dial fails with
/// unsupported_scheme). The environment is read once, when the Client is
/// constructed; a malformed value fails each dial it would serve with
/// invalid_url, naming the variable.
///
/// The pool keys connections by origin and the proxy is a function of the
/// origin for a Client, so connections through a proxy and direct ones are
/// never shared. Proxy failures are dial failures (progress::not_sent):
/// errc::proxy_unreachable, proxy_auth_required (407, or SOCKS5 refused
/// the credentials), proxy_tunnel_refused (the status or SOCKS5 reply).
struct ProxyOptions {
  /// The proxy for every URL, overriding the environment (with `no_proxy`
  /// below instead of NO_PROXY). Empty: see use_environment.
  std::string url;
  /// Hosts that bypass `url`, curl's NO_PROXY syntax: a comma (or space)
  /// separated list of names (a name matches itself and its subdomains; a
  /// leading dot is ignored), IP literals or CIDR blocks ("10.0.0.0/8",
  /// IPv6 with or without brackets), each optionally with ":port" (then
  /// only that port); "*" alone: every host. Used only with `url`.
  std::string no_proxy;
  /// With `url` empty: true reads the environment, false connects directly
  /// (no proxy at all, whatever the environment says).
  bool use_environment = true;
};

/// curl's `--resolve host:port:addr[,addr...]`: dials to `host`:`port` go to
/// these addresses instead of resolving the name (the proxy's name too, when
/// it matches). The URL keeps its name: the Host header, SNI and certificate
/// verification use it. An address that does not parse fails the dial
/// (errc::resolve_failed).
struct ResolveOverride {
  std::string host;
  std::uint16_t port = 0;
  std::vector<std::string> addresses;  ///< IPv4 or IPv6 literals, tried as resolved ones are
};

struct Options {
  // --- connections ---
  /// Covers resolving, every address's connect (Happy Eyeballs: the name's
  /// addresses are raced, IPv6 first and the families alternating, the next
  /// one 250 ms after the last or at once when one fails), the proxy's
  /// handshake and TLS. Names are resolved anew by every dial (getaddrinfo,
  /// no cache), so a service that moved to a new address is found by the
  /// next dial.
  std::chrono::milliseconds connect_timeout = 10s;
  /// Names resolved to fixed addresses (see ResolveOverride); the first
  /// entry for a host:port wins.
  std::vector<ResolveOverride> resolve;
  /// A request is never held back by a dial pending longer than this: a
  /// fresh dial starts beside it (a SYN lost to a partition is retried by
  /// TCP only after 1 s, then 3 s, 7 s...; a fresh one goes out at once),
  /// at most one per stagger and three pending per origin - the oldest is
  /// cancelled to make way. The first to connect serves the queue; the
  /// others are cancelled once nobody waits for them. 0: one dial waits
  /// alone until connect_timeout. 200 ms: a healed path is found within a
  /// stagger, and the connection is up within 300 ms with its handshake.
  std::chrono::milliseconds dial_stagger = 200ms;
  /// Max connections per origin for the whole Client (both protocols,
  /// whatever io_threads is). HTTP/2 connections are shared up to the
  /// peer's MAX_CONCURRENT_STREAMS; beyond that, new ones are dialed (one at
  /// a time) up to this limit; an HTTP/1.1 origin dials up to this many in
  /// parallel. Then requests wait in a bounded queue.
  std::uint32_t max_conns_per_origin = 8;
  /// Requests that may wait for a connection per origin (whole Client) before queue_full.
  std::uint32_t max_queued_per_origin = 10000;
  /// Idle pooled connections are closed after this long.
  std::chrono::milliseconds idle_timeout = 90s;
  HttpVersion http_version = HttpVersion::automatic;
  TlsOptions tls;
  ProxyOptions proxy;
  /// Added to every request to credentials.origin (see credentials.hpp).
  CredentialOptions credentials;

  // --- TCP health ---
  bool tcp_keepalive = true;
  std::chrono::seconds tcp_keepalive_idle = 15s;
  std::chrono::seconds tcp_keepalive_interval = 5s;
  int tcp_keepalive_count = 3;
  /// TCP_USER_TIMEOUT: unacknowledged data older than this kills the connection.
  std::chrono::milliseconds tcp_user_timeout = 30s;

  // --- HTTP/2 ---
  /// Send a PING after this long without reading any frame (0: off).
  std::chrono::milliseconds read_idle_timeout = 30s;
  /// Close the connection when a PING is not acknowledged within this.
  std::chrono::milliseconds ping_timeout = 15s;
  /// Idle PINGs also on a connection with no open stream (a pooled one
  /// waiting for requests). gRPC servers that do not permit keepalive
  /// without calls (etcd; grpc-go's PermitWithoutStream=false) count every
  /// such PING as a strike, however far apart, and end the connection with
  /// GOAWAY ENHANCE_YOUR_CALM "too_many_pings" at the third: set false for
  /// them (the etcd lock backend does). Such a connection is then checked
  /// once a stream is open on it (and by TCP_USER_TIMEOUT).
  bool ping_without_streams = true;
  /// Cap on concurrent streams per HTTP/2 connection below the peer's
  /// MAX_CONCURRENT_STREAMS (0: the peer's limit alone).
  std::uint32_t max_streams_per_connection = 0;
  std::uint32_t h2_initial_stream_window = 4u << 20;
  std::uint32_t h2_connection_window = 16u << 20;
  std::uint32_t max_header_list_size = 256u << 10;

  // --- requests ---
  /// Default time for a whole request (all attempts); Request::timeout overrides.
  std::chrono::milliseconds request_timeout = 60s;
  /// Per attempt: time from handing the request to a connection to its
  /// response header (0: no separate limit). An idempotent request that
  /// times out is retried; otherwise it fails with response_header_timeout.
  std::chrono::milliseconds response_header_timeout = 0ms;
  /// Largest response body kept or streamed, in bytes. With decompression
  /// it counts decoded bytes: a small compressed body that decodes to more
  /// (a decompression bomb) fails with response_too_large as soon as the
  /// decoded bytes pass it, without holding them.
  std::uint64_t max_response_body = 1ull << 30;
  /// Redirects (see <rebound/redirects.hpp>): not followed by default.
  RedirectPolicy redirects;
  /// Send `Accept-Encoding: gzip, br, zstd` and decode the answer while it
  /// streams, to Response::body() or the body sink (off by default). A
  /// decoded response loses its Content-Encoding and Content-Length fields
  /// (they described the encoded bytes). A request that sets its own
  /// Accept-Encoding gets the bytes as sent, undecoded. A corrupt or
  /// truncated encoding fails with errc::content_decoding_failed (reached:
  /// response_started, not retried); an encoding rebound does not know is
  /// passed through undecoded, its Content-Encoding kept.
  bool decompress = false;
  /// Default for Request::wait_for_ready.
  bool wait_for_ready = false;

  // --- retries ---
  /// Attempts per request, the first included. A failed dial counts as an
  /// attempt for the requests that had no other way forward. Attempts the
  /// server refused unprocessed (REFUSED_STREAM; above a GOAWAY's last
  /// stream id) do not count: those are retried with backoff growing to
  /// about a second until the request's deadline or the retry budget stops
  /// them.
  int max_attempts = 4;
  std::chrono::milliseconds backoff_base = 50ms;
  std::chrono::milliseconds backoff_max = 2s;
  /// Retries to an origin may not exceed this fraction of the requests
  /// started to it recently (one redial after a failed dial is one retry)...
  double retry_budget_ratio = 0.2;
  /// ...plus this many per second (the floor that lets a quiet client retry).
  std::uint32_t retry_budget_min_per_second = 10;

  // --- threads and observability ---
  /// I/O threads the Client runs. Each origin is served by one of them
  /// (new origins spread round-robin), so every per-origin limit above
  /// holds for the whole Client; more threads help many-origin clients.
  /// To load one origin from several threads, use one Client per thread.
  /// A Client on your executor starts no thread: there this is the number
  /// of strands of that executor its origins are spread over (client.hpp).
  unsigned io_threads = 1;
  EventHook on_event;
};

}  // namespace rebound
