// A request body the caller keeps writing to while the request runs and its
// response streams back: gRPC's client and bidirectional streams, a watch
// that is told what to watch as it goes, an upload produced as it is sent.
//
//     rebound::BodyWriter body;
//     client.send_async(rebound::Request("POST", url).body_writer(body), done);
//     body.write("first");                  // from any thread
//     body.write("second");
//     body.finish();                        // END_STREAM after what was written
//
// HTTP/2 only. A request with a BodyWriter that lands on an HTTP/1.1
// connection fails with errc::http2_required (not sent; nothing is
// retried): HTTP/1.1 has no way to send the request while the answer
// streams that servers and proxies honour, and a chunked upload that is
// only read after it ends is Request::body_source's job.
//
// Flow control and memory: bytes wait in the writer until the connection's
// I/O thread hands them to HTTP/2 (each write() wakes it; the stream's data
// is resumed there). Unsent bytes are bounded by `limit`: write() takes a
// write whole while fewer than `limit` bytes wait unsent, and otherwise
// returns WriteResult::full and takes nothing - which is what it does while
// the server's flow-control window is closed (the server is not reading)
// or the connection is slower than the writer. wait_writable() blocks until
// there is room. Nothing grows without limit: a writer holds at most
// `limit` unsent bytes plus one write, and the replay copy below.
//
// Retries (DESIGN.md's table): until the response starts, the bytes already
// sent are kept too, up to `limit`, so an attempt the server provably did
// not process (REFUSED_STREAM, a stream above a GOAWAY's last-stream-id, a
// pooled connection found dead before the request left) is sent again from
// the first byte, on another connection. Once the response has started or
// more than `limit` bytes were sent, the sent bytes are dropped at once and
// the request is never resent, whatever its method and retry policy. An
// attempt that may have been processed is retried only as the table says
// for the request's method (a POST: never).
//
// The request's end ends the body: when the request completes - response,
// error, deadline or cancellation (which resets the stream with
// RST_STREAM CANCEL) - write() and finish() return closed/false and
// wait_writable() returns. A response the server completes while the body
// is still open (a gRPC status sent early) completes the request and resets
// the rest of our stream with NO_ERROR (RFC 9113 section 8.1).
//
// Errors: none thrown; results say what happened. A BodyWriter carries one
// request: sending a second request with the same writer fails that request
// with errc::invalid_request.
// Thread safety: every member may be called from any thread, at once.
// wait_writable() blocks and must not be called on a rebound I/O thread
// (a Client callback, a body sink) - it would wait for itself.
#pragma once

#include <rebound/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace rebound {

namespace detail {
struct BodyWriterState;
}

class REBOUND_API BodyWriter {
 public:
  /// The default bound on unsent bytes (and on the replay copy): 1 MiB.
  static constexpr std::size_t default_limit = 1u << 20;
  /// `limit` (at least 1): how many bytes may wait unsent before write()
  /// says full; also how many sent bytes are kept for a resend.
  explicit BodyWriter(std::size_t limit = default_limit);

  enum class WriteResult : std::uint8_t {
    written,  ///< every byte was taken; it will be sent in order
    full,     ///< `limit` bytes wait unsent: nothing was taken (wait_writable(), then write again)
    closed,   ///< finish() was called or the request ended: nothing was taken
  };
  /// Queues `bytes` (copied) after what was written before. Never blocks.
  /// An empty write is `written` (or `closed`) and sends nothing.
  WriteResult write(std::string_view bytes);
  /// Ends the body: END_STREAM goes after the bytes already written. False
  /// when the request had ended (or finish() was called) already.
  bool finish();
  /// Blocks until write() would take bytes (true) or the body closed or
  /// `timeout` passed (false; closed() tells which).
  bool wait_writable(std::chrono::milliseconds timeout) const;
  /// True once finish() was called or the request ended.
  bool closed() const;
  /// True once the request ended (completed, failed or cancelled).
  bool ended() const;
  /// Bytes written and not yet handed to the connection.
  std::size_t unsent() const;

  /// For the transport (and tests): the shared state. Copies of a
  /// BodyWriter share it.
  const std::shared_ptr<detail::BodyWriterState>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<detail::BodyWriterState> state_;
};

}  // namespace rebound
