// One HTTP/2 request/response exchange of the embedded server, apart from
// the session that multiplexes them (h2_session.cpp): the stream's state,
// the response's header block as nghttp2 takes it, the two data providers
// that send a body (whole, or streamed as a producer writes it), and the
// settings that open a session (stream limit and windows).
#pragma once

#include "server_context.hpp"

#include <nghttp2/nghttp2.h>

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rebound::server::detail {

/// One request/response exchange, owned by the session's stream map and
/// registered as nghttp2's stream user data.
struct H2Stream {
  H2Stream() = default;
  H2Stream(const H2Stream&) = delete;
  H2Stream& operator=(const H2Stream&) = delete;
  ~H2Stream() {
    // However the exchange ended (reset by the client, connection gone), a
    // producer still writing learns it.
    if (held.stream) held.stream->cancel();
    if (body_stream) body_stream->cancel();
  }
  /// A request header field (pseudo-headers fill the request line).
  void take_header(std::string_view name, std::string_view value);
  /// A chunk of the request body; false past kMaxRequestBody (not taken).
  bool take_body(std::string_view chunk);

  std::int32_t id = 0;
  ServerRequest request;
  std::string authority;
  bool dispatched = false;  // handler ran (or the stream was reset for it)
  bool abandoned = false;   // above a GOAWAY's last-stream-id: never answered
  bool head = false;
  ServerResponse held;      // a delayed response, until its timer fires
  std::unique_ptr<boost::asio::steady_timer> delay;
  std::string body;         // response body being sent
  std::size_t sent = 0;
  std::shared_ptr<ResponseStream> body_stream;  // a streamed body, instead of `body`
};

/// A response's header block for nghttp2_submit_response: :status first,
/// names lower-cased, connection-specific fields dropped (RFC 9113 8.2.2),
/// content-length added for a whole body (and dropped for a streamed one,
/// whose length is not known). `nva` points into this object.
struct ResponseHeaderBlock {
  ResponseHeaderBlock(ServerResponse& response, std::size_t body_size, bool bodiless_status, bool streamed);
  ResponseHeaderBlock(const ResponseHeaderBlock&) = delete;
  ResponseHeaderBlock& operator=(const ResponseHeaderBlock&) = delete;
  std::string status;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<nghttp2_nv> nva;
};

/// nghttp2 data provider for a body held whole in H2Stream::body.
ssize_t read_whole_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                        nghttp2_data_source* source, void*);
/// nghttp2 data provider for a streamed body: what the producer wrote, as
/// much as flow control lets through; deferred while there is nothing new.
ssize_t read_streamed_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void*);

/// Our SETTINGS (max concurrent streams, initial window) and a connection
/// window as wide as a stream's.
void submit_initial_settings(nghttp2_session* session, const ServerOptions& options);

}  // namespace rebound::server::detail
