// nghttp2 session creation, header blocks and error mapping.
#include "h2/h2_session.hpp"
#include "h2/session_memory.hpp"

#include <atomic>

#include <algorithm>
#include <cctype>

namespace rebound::h2 {
namespace {

SessionEvents& events_of(void* user_data) { return *static_cast<SessionEvents*>(user_data); }

int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  return events_of(ud).on_begin_headers(frame);
}
int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
  return events_of(ud).on_header(frame, {reinterpret_cast<const char*>(name), namelen},
                                 {reinterpret_cast<const char*>(value), valuelen});
}
int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  return events_of(ud).on_frame_recv(frame);
}
int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  return events_of(ud).on_frame_send(frame);
}
int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* ud) {
  return events_of(ud).on_data_chunk(stream_id, data, len);
}
int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* ud) {
  return events_of(ud).on_stream_close(stream_id, error_code);
}
int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* ud) { return events_of(ud).on_begin_frame(*hd); }
int on_invalid_frame(nghttp2_session*, const nghttp2_frame* frame, int lib_error, void* ud) {
  events_of(ud).on_violation(frame->hd.stream_id, nghttp2_strerror(lib_error));
  return 0;
}
int on_error(nghttp2_session*, int, const char* msg, size_t len, void* ud) {
  // Connection-level findings ("SETTINGS: ...", "DATA: stream 0"...); stream
  // ones also reach on_invalid_frame with their stream id.
  events_of(ud).on_violation(0, {msg, len});
  return 0;
}

bool connection_specific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" || lower_name == "proxy-connection" ||
         lower_name == "transfer-encoding" || lower_name == "upgrade" || lower_name == "host" ||
         lower_name == "te";
}

}  // namespace

ssize_t read_body_trampoline(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                             uint32_t* data_flags, nghttp2_data_source*, void* ud) {
  return events_of(ud).read_body(stream_id, buf, length, data_flags);
}

namespace {
std::atomic<std::int32_t> first_stream_id{1};
}  // namespace

void testing::set_first_stream_id(std::int32_t id) noexcept { first_stream_id = id; }

SessionPtr make_client_session(SessionEvents& events, const Options& options) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
  nghttp2_session_callbacks_set_error_callback2(cbs, on_error);

  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // PING ACKs stay automatic; we see acks in on_frame_recv for health checks.
  nghttp2_option_set_peer_max_concurrent_streams(opt, 100);

  nghttp2_session* raw = nullptr;
  nghttp2_session_client_new3(&raw, cbs, &events, opt, session_memory());
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  SessionPtr session(raw);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options.h2_initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options.max_header_list_size},
  };
  nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(raw, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options.h2_connection_window));
  if (const std::int32_t first = first_stream_id; first != 1)
    nghttp2_session_set_next_stream_id(raw, first);
  return session;
}

int collect_output(nghttp2_session* session, std::vector<std::uint8_t>& out, std::size_t max) {
  while (out.size() < max) {
    const std::uint8_t* data = nullptr;
    const ssize_t len = nghttp2_session_mem_send(session, &data);
    if (len < 0) return static_cast<int>(len);
    if (len == 0) break;
    out.insert(out.end(), data, data + len);
  }
  return 0;
}

std::uint32_t stream_limit(nghttp2_session* session, const Options& options, bool limits_pending) {
  auto limit = nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  if (options.max_streams_per_connection > 0) limit = std::min(limit, options.max_streams_per_connection);
  if (limits_pending) limit = std::min<std::uint32_t>(limit, 1);
  return limit;
}

HeaderBlock::HeaderBlock(const Request& request, const Url& url) {
  add(":method", request.method());
  add(":scheme", url.scheme());
  const auto host = request.headers().get("host");
  add(":authority", host ? *host : url.authority());
  add(":path", url.target());
  bool has_user_agent = false;
  lowered_names_.reserve(request.headers().size());
  for (const auto& [name, value] : request.headers()) {
    std::string_view n = name;
    if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return std::isupper(c); })) {
      std::string& lower = lowered_names_.emplace_back(name);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      n = lower;
    }
    if (connection_specific(n)) continue;
    if (n == "user-agent") has_user_agent = true;
    add(n, value);
  }
  if (!has_user_agent) add("user-agent", "rebound/0.1");
  if (!request.headers().contains("content-length")) {
    if (!request.body().empty()) content_length_ = std::to_string(request.body().size());
    else if (request.body_source() && request.body_source_length())
      content_length_ = std::to_string(*request.body_source_length());
    if (!content_length_.empty()) add("content-length", content_length_);
  }
}

void HeaderBlock::add(std::string_view name, std::string_view value) {
  nva_.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                  NGHTTP2_NV_FLAG_NONE});
}

StreamFailure classify_stream_close(std::uint32_t error_code, bool response_started) {
  if (error_code == NGHTTP2_REFUSED_STREAM) return {errc::refused_by_server, progress::refused};
  if (response_started) return {errc::truncated_response, progress::response_started};
  return {errc::stream_reset, progress::sent};
}

std::string h2_error_name(std::uint32_t error_code) {
  return nghttp2_http2_strerror(error_code);
}

Error drained_error(const std::string& connection, const std::string& retired_because) {
  return Error(errc::connection_closed,
               connection + ": drained" + (retired_because.empty() ? "" : " (retired: " + retired_because + ")"));
}

Error ending_error(const std::string& connection, const std::string& violation, errc otherwise,
                   const std::string& what) {
  if (!violation.empty())
    return Error(errc::protocol_error, connection + ": the server broke HTTP/2: " + violation + " (found by rebound)");
  return Error(otherwise, connection + ": " + what);
}

}  // namespace rebound::h2
