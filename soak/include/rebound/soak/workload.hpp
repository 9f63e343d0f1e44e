// The soak's traffic: the kinds of request a client sends (downloads,
// echoes, uploads in memory and streamed, POSTs with and without an
// Idempotency-Key), how one is drawn at random, and how it becomes a
// rebound::Request whose body source and body sink report what they saw.
// Every request carries a unique id, as the x-request-id header (servers
// log it) and as ?rid= in its URL (so the client's events name it).
#pragma once

#include <rebound/soak/schedule.hpp>

#include <rebound/request.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace rebound::soak {

enum class Kind : std::uint8_t {
  get_bytes,              ///< GET /bytes/N, body in memory
  get_bytes_streamed,     ///< GET /bytes/N through Request::on_body
  get_echo,               ///< GET /echo
  get_delay,              ///< GET /delay/MS: in flight while faults land
  put_echo,               ///< PUT /echo, body in memory (idempotent)
  put_streamed,           ///< PUT /echo from a body_source with a length
  post_plain,             ///< POST /echo, no Idempotency-Key: must never run twice
  post_keyed,             ///< POST /echo with an Idempotency-Key
  post_streamed_chunked,  ///< POST /echo from a body_source without a length
  post_streamed_keyed,    ///< POST /echo with a key, from a body_source with a length
};
inline constexpr int kind_count = static_cast<int>(Kind::post_streamed_keyed) + 1;
const char* to_string(Kind k) noexcept;
const char* method_of(Kind k) noexcept;
bool streams_upload(Kind k) noexcept;
bool streams_download(Kind k) noexcept;
bool sends_body(Kind k) noexcept;
/// A request the server must never run twice: a POST without a key, or any
/// streamed upload (its body cannot be produced twice).
bool runs_at_most_once(Kind k) noexcept;

/// How a client speaks: each client has one (Options::http_version).
enum class ClientMode : std::uint8_t { h2_tls, h1_tls, h2c, h1_plain };
inline constexpr int client_mode_count = 4;
const char* to_string(ClientMode m) noexcept;
bool speaks_h2(ClientMode m) noexcept;
bool uses_tls(ClientMode m) noexcept;

/// One request, as drawn.
struct Spec {
  std::uint64_t id = 0;
  Kind kind{};
  ServerSlot server{};
  std::uint64_t size = 0;  ///< /bytes/N's N, the upload's size, or /delay's milliseconds
  std::size_t chunk = 0;   ///< streamed uploads: bytes per body_source call
  std::optional<std::chrono::milliseconds> timeout;  ///< unset: the client's default
  std::string target;      ///< path and query
  std::string describe() const;  ///< "#42 post_plain POST /echo?rid=42 (1000 bytes) on child_tls"
};

/// Draws the next request for a client that may use `servers` (the two of its scheme).
Spec draw_spec(std::mt19937_64& rng, std::uint64_t id, const ServerSlot (&servers)[2]);

/// What a request's body source and body sink saw while it ran. Written
/// on the client's I/O thread, read by the checks and the watchdog.
struct Observed {
  std::shared_ptr<const std::string> upload;  ///< the body sent, for echo checks
  std::atomic<std::uint64_t> source_offset{0};
  std::atomic<bool> source_ended{false};
  std::atomic<int> source_calls_after_end{0};  ///< a body read again: a second attempt
  std::atomic<std::uint64_t> sink_bytes{0};
  std::atomic<std::int64_t> sink_mismatch{-1};  ///< first offset differing from /bytes' pattern
  /// Attempts the server refused unprocessed and that were retried: they do
  /// not count against Options::max_attempts (only the deadline and the
  /// retry budget bound them).
  std::atomic<int> refused_retries{0};
};

/// The upload body of request `id`: `size` bytes, a function of the id.
std::string upload_body(std::uint64_t id, std::size_t size);
/// Byte `i` of every /bytes/N body (the server's pattern).
inline char pattern_byte(std::uint64_t i) { return static_cast<char>('a' + i % 26); }

/// The request for `spec` against `base_url`, wired to `seen`.
Request build_request(const Spec& spec, const std::string& base_url, const std::shared_ptr<Observed>& seen);

}  // namespace rebound::soak
