// nghttp2 glue that does not depend on the connection's I/O: creating a
// client session with rebound's settings, building a request's header block,
// and mapping HTTP/2 error codes to rebound's errors.
#pragma once

#include <rebound/error.hpp>
#include <rebound/options.hpp>
#include <rebound/request.hpp>
#include <rebound/url.hpp>

#include <boost/container/small_vector.hpp>

#include <nghttp2/nghttp2.h>

#include <memory>
#include <string>
#include <vector>

namespace rebound::h2 {

/// The callbacks a session reports to (the connection implements these).
class SessionEvents {
 public:
  virtual int on_begin_headers(const nghttp2_frame* frame) = 0;
  virtual int on_header(const nghttp2_frame* frame, std::string_view name, std::string_view value) = 0;
  virtual int on_frame_recv(const nghttp2_frame* frame) = 0;
  virtual int on_frame_send(const nghttp2_frame* frame) = 0;
  virtual int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len) = 0;
  virtual int on_stream_close(std::int32_t stream_id, std::uint32_t error_code) = 0;
  virtual ssize_t read_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t length,
                            std::uint32_t* data_flags) = 0;
  /// A frame header arrived (every frame, those nghttp2 then ignores too).
  virtual int on_begin_frame(const nghttp2_frame_hd& hd) = 0;
  /// nghttp2 found the peer breaking the protocol: `stream_id` 0 for the
  /// connection; `what` is nghttp2's own description.
  virtual void on_violation(std::int32_t stream_id, std::string_view what) = 0;
 protected:
  ~SessionEvents() = default;
};

struct SessionDeleter {
  void operator()(nghttp2_session* s) const noexcept { nghttp2_session_del(s); }
};
using SessionPtr = std::unique_ptr<nghttp2_session, SessionDeleter>;

/// nghttp2's data-source callback, forwarding to SessionEvents::read_body.
ssize_t read_body_trampoline(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                             uint32_t* data_flags, nghttp2_data_source* source, void* user_data);

/// A client session wired to `events`, with the local SETTINGS queued.
SessionPtr make_client_session(SessionEvents& events, const Options& options);

/// Appends the frames `session` has ready to `out` until it holds at least
/// `max` bytes or nothing is left. 0, or nghttp2's (negative) error.
int collect_output(nghttp2_session* session, std::vector<std::uint8_t>& out, std::size_t max);

/// How many streams the connection may have open: the peer's
/// MAX_CONCURRENT_STREAMS, lowered to Options::max_streams_per_connection,
/// and 1 until the peer's first SETTINGS (`limits_pending`) says how many
/// it allows - the rest wait the fraction of a round trip.
std::uint32_t stream_limit(nghttp2_session* session, const Options& options, bool limits_pending);

/// The largest stream id a client may open (RFC 9113 section 5.1.1: 2^31-1).
inline constexpr std::int32_t max_stream_id = 0x7fffffff;

namespace testing {
/// The stream id that sessions created from now on start at (odd; 1 is
/// normal), so tests reach stream-id exhaustion without 2^30 requests.
void set_first_stream_id(std::int32_t id) noexcept;
}  // namespace testing

/// The request's header block: pseudo-headers first, names lower-cased,
/// connection-specific fields dropped (RFC 9113 section 8.2.2). Points into
/// `request` and `url` (nghttp2 copies the block when the request is
/// submitted); owns only what it had to make: lower-cased names and the
/// content-length. Up to 16 fields live inline, without allocation.
class HeaderBlock {
 public:
  HeaderBlock(const Request& request, const Url& url);
  HeaderBlock(const HeaderBlock&) = delete;
  HeaderBlock& operator=(const HeaderBlock&) = delete;
  const nghttp2_nv* data() const noexcept { return nva_.data(); }
  std::size_t size() const noexcept { return nva_.size(); }

 private:
  void add(std::string_view name, std::string_view value);
  std::vector<std::string> lowered_names_;  // reserved up front: nva_ points into it
  std::string content_length_;
  boost::container::small_vector<nghttp2_nv, 16> nva_;
};

/// The rebound error and progress for a stream closed with `error_code`.
struct StreamFailure {
  errc code;
  progress reached;
};
StreamFailure classify_stream_close(std::uint32_t error_code, bool response_started);

/// nghttp2's name for an error code ("REFUSED_STREAM").
std::string h2_error_name(std::uint32_t error_code);

/// A connection closed once its last stream ended after it stopped taking
/// streams; `retired_because` says why it stopped, if it did so itself.
Error drained_error(const std::string& connection, const std::string& retired_because);
/// Why a connection ends: a protocol violation nghttp2 found outranks
/// whatever the transport said afterwards (the server usually closes after
/// our GOAWAY).
Error ending_error(const std::string& connection, const std::string& violation, errc otherwise,
                   const std::string& what);

}  // namespace rebound::h2
