// A client HTTP/2 stream's response and request body; see h2_stream.hpp.
#include "h2/h2_stream.hpp"

#include "conn/connection.hpp"
#include "h2/h2_session.hpp"
#include "inflight/body_writer_state.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace rebound::h2 {

int StreamState::take_header(std::string_view name, std::string_view value, const Options& options) {
  header_bytes += name.size() + value.size() + 32;
  if (header_bytes > options.max_header_list_size) {
    local_error = errc::response_too_large;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  }
  if (name == ":status") {
    int status = 0;
    std::from_chars(value.data(), value.data() + value.size(), status);
    if (status >= 200) {
      response.status(status);
      response_started = true;
      ex->mark_response_started(status);
    }
    return 0;
  }
  if (!response_started) return 0;  // fields of a 1xx response
  if (!headers_complete && name == "content-length" && !ex->request().body_sink()) {
    // Grow the body once instead of doubling through every DATA frame
    // (that regrowth was a third of the instructions for 1 MiB bodies),
    // but only up to max_body_reserve: the header is the server's claim,
    // not bytes that arrived, and many streams may make it at once.
    std::uint64_t length = 0;
    std::from_chars(value.data(), value.data() + value.size(), length);
    response.body().reserve(static_cast<std::size_t>(
        std::min<std::uint64_t>({length, options.max_response_body, conn::max_body_reserve})));
  }
  if (headers_complete) {
    response.trailers().add(std::string(name), std::string(value));
    return 0;
  }
  // One allocation for a typical response's fields instead of regrowing.
  if (response.headers().empty()) response.headers().reserve(12);
  response.headers().add(std::string(name), std::string(value));
  return 0;
}

void StreamState::end_headers() {
  if (headers_complete) return;
  headers_complete = true;
  if (ex && ex->head_observed())
    ex->note_response_head(response.status(), response.headers().value_or("content-encoding", ""));
}

bool StreamState::take_data(std::string_view chunk_in, const Options& options) {
  ex->note_body_progress();
  if (ex->request().body_sink()) {
    if (local_error) return true;  // failing already: the rest is nobody's
    if (!ex->deliver_body(chunk_in)) {
      // The caller's sink threw: this stream ends, the connection serves on.
      local_error = errc::callback_threw;
      return false;
    }
    return true;
  }
  std::string& body = response.body();
  if (body.size() + chunk_in.size() > options.max_response_body) {
    local_error = errc::response_too_large;
    return false;
  }
  body.append(chunk_in);
  return true;
}

ssize_t StreamState::read_request_body(std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags) {
  if (ex->request().body_source()) return read_streamed_body(buf, length, data_flags);
  if (ex->request().body_writer()) return read_written_body(buf, length, data_flags);
  const std::string& body = ex->request().body();
  const std::size_t n = std::min(length, body.size() - body_sent);
  std::memcpy(buf, body.data() + body_sent, n);
  body_sent += n;
  if (body_sent == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Pulls the next chunk from the request's body source when the last one is
// sent. A body that does not match its declared length fails the stream
// (RST INTERNAL_ERROR) with invalid_request: the peer would see a malformed
// message.
ssize_t StreamState::read_streamed_body(std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags) {
  const Request& r = ex->request();
  if (chunk_sent == chunk.size() && !source_done) {
    ex->mark_body_read();
    if (!ex->pull_body_chunk(chunk)) {
      local_error = errc::callback_threw;
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
    }
    chunk_sent = 0;
    streamed += chunk.size();
    source_done = chunk.empty();
    const auto declared = r.body_source_length();
    if (declared && (streamed > *declared || (source_done && streamed != *declared))) {
      local_error = errc::invalid_request;
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  }
  const std::size_t n = std::min(length, chunk.size() - chunk_sent);
  std::memcpy(buf, chunk.data() + chunk_sent, n);
  chunk_sent += n;
  if (source_done) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void StreamState::start_writer(std::function<void()> wake) {
  const auto& writer = ex->request().body_writer();
  if (!writer) return;
  writer->state()->start_attempt(std::move(wake));
  writer_open = true;
}

ssize_t StreamState::read_written_body(std::uint8_t* buf, std::size_t length, std::uint32_t* data_flags) {
  const auto pulled = ex->request().body_writer()->state()->pull(buf, length);
  // Nothing written yet: nghttp2 sends nothing for this stream until the
  // writer's wake-up resumes it; HEADERS and other streams go on.
  if (pulled.deferred) return NGHTTP2_ERR_DEFERRED;
  if (pulled.end) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    writer_open = false;
  }
  return static_cast<ssize_t>(pulled.bytes);
}

Error StreamState::failure(const std::string& connection, std::uint32_t code) const {
  const progress reached = response_started ? progress::response_started : progress::sent;
  if (!violation.empty())
    return Error(errc::protocol_error, connection + ": the server broke HTTP/2: " + violation + " (found by rebound)",
                 reached);
  if (local_error == errc::callback_threw && ex && ex->caller_threw())
    return Error(errc::callback_threw, connection + ": " + *ex->caller_threw(), reached);
  if (local_error)
    return Error(*local_error,
                 connection + (*local_error == errc::invalid_request
                                   ? ": the streamed body's size differs from its declared content-length"
                                   : ": stream limit exceeded"),
                 reached);
  const StreamFailure f = classify_stream_close(code, response_started);
  return Error(f.code, connection + ": stream closed with " + h2_error_name(code), f.reached);
}

}  // namespace rebound::h2
