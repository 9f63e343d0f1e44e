// The embedded server's HTTP/2 streams: header blocks and body providers.
#include "h2_stream.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <iterator>
#include <cstring>

namespace rebound::server::detail {
namespace {

bool connection_specific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade";
}

nghttp2_nv make_nv(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

void H2Stream::take_header(std::string_view name, std::string_view value) {
  if (name.starts_with(':')) {
    if (name == ":method") request.method = value;
    else if (name == ":path") request.target = value;
    else if (name == ":authority") authority = value;
    return;
  }
  if (name == "content-length") {
    std::size_t length = 0;
    std::from_chars(value.data(), value.data() + value.size(), length);
    request.body.reserve(std::min(length, kMaxRequestBody));
  }
  request.headers.emplace_back(name, value);
}

bool H2Stream::take_body(std::string_view chunk) {
  if (request.body.size() + chunk.size() > kMaxRequestBody) return false;
  request.body.append(chunk);
  return true;
}

ResponseHeaderBlock::ResponseHeaderBlock(ServerResponse& response, std::size_t body_size, bool bodiless_status,
                                         bool streamed)
    : status(std::to_string(response.status)) {
  static const std::string kStatus = ":status";
  static const std::string kContentLength = "content-length";
  fields.reserve(response.headers.size() + 1);
  bool has_length = false;
  for (auto& [name, value] : response.headers) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    if (connection_specific(key)) continue;
    if (streamed && key == kContentLength) continue;  // the length is not known
    has_length = has_length || key == kContentLength;
    fields.emplace_back(std::move(key), std::move(value));
  }
  if (!has_length && !bodiless_status && !streamed) fields.emplace_back(kContentLength, std::to_string(body_size));
  nva.reserve(fields.size() + 1);
  nva.push_back(make_nv(kStatus, status));
  for (const auto& [name, value] : fields) nva.push_back(make_nv(name, value));
}

ssize_t read_whole_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                        nghttp2_data_source* source, void*) {
  auto& s = *static_cast<H2Stream*>(source->ptr);
  const std::size_t n = std::min(length, s.body.size() - s.sent);
  std::memcpy(buf, s.body.data() + s.sent, n);
  s.sent += n;
  if (s.sent == s.body.size()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    std::string().swap(s.body);
  }
  return static_cast<ssize_t>(n);
}

ssize_t read_streamed_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void*) {
  auto& s = *static_cast<H2Stream*>(source->ptr);
  auto chunk = s.body_stream->take(length);
  // Cancelled by its producer (or a client that does not read): reset the stream.
  if (chunk.cancelled) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  std::memcpy(buf, chunk.data.data(), chunk.data.size());
  if (chunk.finished) *flags |= NGHTTP2_DATA_FLAG_EOF;
  else if (chunk.data.empty()) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(chunk.data.size());
}

void submit_initial_settings(nghttp2_session* session, const ServerOptions& options) {
  const std::uint32_t window = std::min<std::uint32_t>(options.initial_window_size, INT32_MAX);
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window},
  };
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  // The connection window starts at 65535 whatever SETTINGS say; widen it
  // as well, or it throttles every stream's larger window.
  if (window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE)
    nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, static_cast<std::int32_t>(window));
}

}  // namespace rebound::server::detail
