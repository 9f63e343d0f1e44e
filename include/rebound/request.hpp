// A request: method, URL, headers, body, and per-request policy (deadline,
// retry policy, cancellation).
//
// Errors: building a Request never fails; an invalid URL or method is
// reported when the request is sent (errc::invalid_url / invalid_request).
// Thread safety: a value type. `Cancellation` may be triggered from any thread.
#pragma once

#include <rebound/body_writer.hpp>
#include <rebound/export.hpp>
#include <rebound/headers.hpp>
#include <rebound/redirects.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rebound {

/// Whether a request may be sent again after an ambiguous failure (one where
/// the server may have processed it). Unambiguous failures - never sent, or
/// refused unprocessed by the server - are retried whatever this says,
/// except under `never`. A 429 or 503 answer with Retry-After is retried
/// after the server's delay under the same rule as an ambiguous failure,
/// within the deadline and the retry budget; otherwise it is the response.
enum class RetryPolicy {
  automatic,        ///< RFC 9110 idempotent methods or an Idempotency-Key header
  never,            ///< no retries at all, not even of provably unprocessed attempts
  idempotent_only,  ///< like automatic, but an Idempotency-Key header does not count
  always,           ///< the caller vouches that resending is safe
};

/// A handle that cancels the requests it is attached to. Copies share state.
/// One handle may be attached to any number of requests, one after another
/// or at once; each attachment ends when its request completes, so reusing
/// a handle costs nothing per request.
class REBOUND_API Cancellation {
 public:
  Cancellation();
  /// Cancels every attached request still running (they fail with errc::cancelled).
  void cancel();
  bool cancelled() const noexcept;
  /// Requests (listeners) attached right now: each attachment ends when its
  /// request completes. For diagnostics and tests.
  std::size_t attached() const;

  /// One listener attached by on_cancel; destroying (or reset()ting) it
  /// detaches the listener. After reset() returns, the listener is not
  /// running and never will. Move-only.
  class REBOUND_API Registration {
   public:
    Registration() = default;
    Registration(Registration&& o) noexcept;
    Registration& operator=(Registration&& o) noexcept;
    ~Registration() { reset(); }
    void reset() noexcept;

   private:
    friend class Cancellation;
    Registration(std::weak_ptr<struct CancellationState> state, std::uint64_t id) : state_(std::move(state)), id_(id) {}
    std::weak_ptr<struct CancellationState> state_;
    std::uint64_t id_ = 0;
  };

  /// Runs `f` once on cancel() (at once, on this thread, if already
  /// cancelled) unless the returned Registration ends first. Used by the
  /// Client to attach requests. `f` runs with the handle's lock held, so it
  /// must be quick and must not call cancel() or on_cancel() on this handle.
  [[nodiscard]] Registration on_cancel(std::function<void()> f) const;

 private:
  std::shared_ptr<struct CancellationState> state_;
};

class REBOUND_API Request {
 public:
  Request() = default;
  Request(std::string method, std::string url) : method_(std::move(method)), url_(std::move(url)) {}

  static Request get(std::string url) { return {"GET", std::move(url)}; }
  static Request post(std::string url, std::string body, std::string content_type = "application/octet-stream") {
    Request r{"POST", std::move(url)};
    r.body(std::move(body)).header("content-type", std::move(content_type));
    return r;
  }

  const std::string& method() const noexcept { return method_; }
  const std::string& url() const noexcept { return url_; }
  const Headers& headers() const noexcept { return headers_; }
  Headers& headers() noexcept { return headers_; }
  const std::string& body() const noexcept { return body_; }

  Request& method(std::string m) { method_ = std::move(m); return *this; }
  Request& url(std::string u) { url_ = std::move(u); return *this; }
  /// Adds a header field (see Headers::add).
  Request& header(std::string name, std::string value) {
    headers_.add(std::move(name), std::move(value));
    return *this;
  }
  /// The body, kept in memory: replayable, so a retry can resend it.
  Request& body(std::string b) { body_ = std::move(b); return *this; }

  /// Produces a streamed request body one chunk per call; an empty chunk
  /// ends the body. Called on an I/O thread while the request is written
  /// (keep it quick; it may send requests, which are posted, but must not
  /// block on one). If it throws, the request fails with
  /// errc::callback_threw (saying what it threw) and is not resent.
  using BodySource = std::function<std::string()>;
  /// Streams the request body from `source` instead of holding it in
  /// memory (an upload larger than memory, a generated body). With
  /// `content_length` the body must produce exactly that many bytes (else
  /// the request fails with errc::invalid_request); without it, HTTP/1.1
  /// sends it chunked. Such a body cannot be sent twice: once the source
  /// was read from, the request is never retried, whatever the retry table
  /// would allow (the table's "replayable body" condition). Replaces body().
  Request& body_source(BodySource source, std::optional<std::uint64_t> content_length = std::nullopt) {
    body_.clear();
    body_writer_.reset();
    body_rewind_ = nullptr;
    body_source_ = std::move(source);
    body_source_length_ = content_length;
    return *this;
  }
  const BodySource& body_source() const noexcept { return body_source_; }

  /// Makes a fresh BodySource that produces the body from its start.
  using BodySourceFactory = std::function<BodySource()>;
  /// Streams a body that can be produced again: `factory` is called for
  /// the first attempt and again for each retry (or a 307/308 redirect),
  /// so such a request stays retryable under the retry table as a body in
  /// memory does, while only one chunk at a time is held. Each source must
  /// produce exactly `content_length` bytes, the same ones every time.
  /// `factory` and its sources run on an I/O thread; what they throw fails
  /// the request with errc::callback_threw. Replaces the other bodies.
  Request& body_replayable_source(BodySourceFactory factory, std::uint64_t content_length);
  /// Uploads the file at `path` in 64 KiB chunks, in constant memory, with
  /// a Content-Length of its size now (a replayable source: a retry sends
  /// the same bytes again). A file that cannot be opened or read, or whose
  /// size changed, fails the request when it is sent (errc::callback_threw
  /// naming the file, or invalid_request for a size mismatch).
  Request& body_file(const std::string& path);
  /// Starts a replayable source over (empty for any other body). For the
  /// engine: called before each attempt that may read the body again.
  const std::function<void()>& body_rewind() const noexcept { return body_rewind_; }
  const std::optional<std::uint64_t>& body_source_length() const noexcept { return body_source_length_; }

  /// Sends the body the caller writes to `writer` while the request runs
  /// (see <rebound/body_writer.hpp>: HTTP/2 only, bounded, resent only
  /// while the server provably did not process it). No content-length is
  /// sent. One request per writer. Replaces body() and body_source().
  Request& body_writer(BodyWriter writer) {
    body_.clear();
    body_source_ = nullptr;
    body_source_length_.reset();
    body_rewind_ = nullptr;
    body_writer_ = std::move(writer);
    return *this;
  }
  const std::optional<BodyWriter>& body_writer() const noexcept { return body_writer_; }

  /// True when the request carries a body (in memory, streamed or written).
  bool has_body() const noexcept {
    return !body_.empty() || static_cast<bool>(body_source_) || body_writer_.has_value();
  }

  /// Time allowed for the whole request, all attempts included. Unset: the
  /// Client's Options::request_timeout.
  Request& timeout(std::chrono::milliseconds t) { timeout_ = t; return *this; }
  const std::optional<std::chrono::milliseconds>& timeout() const noexcept { return timeout_; }

  /// Fails the request with errc::body_idle_timeout (reached:
  /// response_started) when no byte of the response body arrives for this
  /// long once the response has started: for long streams (a Kubernetes
  /// watch) whose deadline is far away but whose server went quiet. Unset:
  /// no such limit.
  Request& body_idle_timeout(std::chrono::milliseconds t) { body_idle_timeout_ = t; return *this; }
  const std::optional<std::chrono::milliseconds>& body_idle_timeout() const noexcept { return body_idle_timeout_; }

  Request& retry_policy(RetryPolicy p) { retry_policy_ = p; return *this; }
  RetryPolicy retry_policy() const noexcept { return retry_policy_; }

  /// Wait for a connection while the origin's dials fail (up to the
  /// deadline) instead of failing with the dial error. Unset: Options.
  Request& wait_for_ready(bool on) { wait_for_ready_ = on; return *this; }
  const std::optional<bool>& wait_for_ready() const noexcept { return wait_for_ready_; }

  /// Streams the response body: each chunk goes to `sink` as it arrives
  /// (on an I/O thread; keep it quick) instead of into Response::body().
  /// The response's headers still arrive with the final Response. Chunks
  /// only flow once the response has started, and a started response is
  /// never retried, so the sink never sees two attempts' bodies. The one
  /// exception is decided before the sink sees a byte: the body of a 401
  /// (re-authenticated once) or a 429/503 with Retry-After (retried after
  /// the server's delay) is held back, up to 64 KiB, until rebound knows
  /// whether it retries; if not, the sink gets it whole before completion.
  /// If it throws, it is not called again and the request fails with
  /// errc::callback_threw (saying what it threw).
  using BodySink = std::function<void(std::string_view chunk)>;
  Request& on_body(BodySink sink) { body_sink_ = std::move(sink); return *this; }
  const BodySink& body_sink() const noexcept { return body_sink_; }

  /// Redirects for this request (see <rebound/redirects.hpp>). Unset:
  /// Options::redirects.
  Request& redirects(RedirectPolicy p) { redirects_ = p; return *this; }
  const std::optional<RedirectPolicy>& redirects() const noexcept { return redirects_; }

  /// Asks for a compressed response (Accept-Encoding: gzip, br, zstd) and
  /// decodes it while it streams (see Options::decompress). Unset:
  /// Options::decompress.
  Request& decompress(bool on) { decompress_ = on; return *this; }
  const std::optional<bool>& decompress() const noexcept { return decompress_; }

  Request& cancellation(Cancellation c) { cancellation_ = std::move(c); return *this; }
  const std::optional<Cancellation>& cancellation() const noexcept { return cancellation_; }

 private:
  std::string method_ = "GET";
  std::string url_;
  Headers headers_;
  std::string body_;
  std::optional<std::chrono::milliseconds> timeout_;
  std::optional<std::chrono::milliseconds> body_idle_timeout_;
  RetryPolicy retry_policy_ = RetryPolicy::automatic;
  std::optional<bool> wait_for_ready_;
  std::optional<Cancellation> cancellation_;
  std::optional<RedirectPolicy> redirects_;
  std::optional<bool> decompress_;
  BodySink body_sink_;
  BodySource body_source_;
  std::optional<std::uint64_t> body_source_length_;
  std::function<void()> body_rewind_;  // only for a replayable source
  std::optional<BodyWriter> body_writer_;
};

}  // namespace rebound
