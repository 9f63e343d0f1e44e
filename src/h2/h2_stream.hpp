// One stream of a client HTTP/2 connection, apart from the connection that
// multiplexes them (h2_connection.cpp): its exchange, the response as its
// HEADERS and DATA arrive (limits, trailers, a body sink), the request body
// as nghttp2 pulls it (whole, from a body source, or from the caller's
// BodyWriter, deferred until bytes arrive), and the error that says how a
// failed stream ended and how far it got.
#pragma once

#include "inflight/exchange.hpp"

#include <rebound/error.hpp>
#include <rebound/options.hpp>
#include <rebound/response.hpp>

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::h2 {

struct StreamState {
  std::shared_ptr<inflight::Exchange> ex;  // null once abandoned
  Response response;
  std::size_t body_sent = 0;
  // A streamed body (Request::body_source): the chunk being sent.
  std::string chunk;
  std::size_t chunk_sent = 0;
  std::uint64_t streamed = 0;
  bool source_done = false;
  // A BodyWriter body whose END_STREAM has not been sent yet.
  bool writer_open = false;
  std::size_t header_bytes = 0;
  bool reused = false;
  bool headers_sent = false;      // our HEADERS frame left
  bool response_started = false;  // a final :status arrived
  bool headers_complete = false;  // the final response header block ended
  std::optional<errc> local_error;
  std::string violation;  // what nghttp2 found the server doing wrong on this stream

  /// A response header field (or trailer). 0, or
  /// NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE to reset the stream (the header
  /// list passed max_header_list_size). Precondition: ex is set.
  int take_header(std::string_view name, std::string_view value, const Options& options);
  /// The final response's header block ended (later ones are trailers);
  /// tells the exchange's head observer, if any.
  void end_headers();
  /// A chunk of the response body: to the sink, or into the response.
  /// False when the stream must be reset (over max_response_body, or the
  /// caller's sink threw); local_error says which. Precondition: ex is set.
  bool take_data(std::string_view chunk, const Options& options);
  /// nghttp2's data provider: the next bytes of the request body.
  /// NGHTTP2_ERR_DEFERRED when a BodyWriter has nothing yet: `wake` (given
  /// to start_writer) then runs when it has, and the connection resumes
  /// the stream's data on its I/O thread.
  ssize_t read_request_body(std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags);
  /// A BodyWriter body starts this attempt (from its first byte while it
  /// can be replayed); no-op for other bodies. Precondition: ex is set.
  void start_writer(std::function<void()> wake);
  /// `hd` ended the server's answer while our BodyWriter body is still
  /// open (a gRPC status sent early): the stream must be reset with
  /// NO_ERROR, or it would wait for the writer's end.
  bool answered_before_body_ended(const nghttp2_frame_hd& hd) const {
    return writer_open && response_started && (hd.flags & NGHTTP2_FLAG_END_STREAM) &&
           (hd.type == NGHTTP2_HEADERS || hd.type == NGHTTP2_DATA);
  }
  /// How the stream failed, closed with `code`, for the attempt's error.
  Error failure(const std::string& connection, std::uint32_t code) const;

 private:
  ssize_t read_streamed_body(std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags);
  ssize_t read_written_body(std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags);
};

}  // namespace rebound::h2
