// An HTTP/2 connection on nghttp2's server session, driven from Asio:
// bytes read go to nghttp2_session_mem_recv; everything nghttp2 wants to
// send is gathered with nghttp2_session_mem_send into one buffer and written
// with a single async_write, and nothing more is generated until that write
// completes. nghttp2 does flow control both ways (automatic WINDOW_UPDATE for
// received DATA; the body provider is simply not asked while the peer's
// window is closed, and the next mem_send after its WINDOW_UPDATE resumes).
//
// Fault switches: refuse -> RST_STREAM(REFUSED_STREAM) at HEADERS; reset ->
// handler runs, then RST_STREAM(code); drop -> handler runs, then the TCP
// connection is reset. GOAWAY (send_goaway, stop) moves the session to
// draining: streams above the last-stream-id are abandoned without response
// and the connection closes once the streams at or below it are done.
//
// A streamed response (ServerResponse::stream) is sent by a data provider
// that defers while the producer has nothing new; the producer's write wakes
// the session, which resumes the stream. A stream reset by the client, or a
// connection that ends, cancels the producer; stop() drains it (END_STREAM
// after what was written).
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <climits>
#include <map>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "h2_stream.hpp"
#include "peer_identity.hpp"
#include "sessions.hpp"

namespace rebound::server::detail {

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

constexpr std::size_t kReadChunk = 128 * 1024;
constexpr std::size_t kWriteBatch = 1024 * 1024;  // stop gathering output beyond this


template <class Stream>
class H2Session final : public ConnectionHandle, public std::enable_shared_from_this<H2Session<Stream>> {
 public:
  H2Session(ServerContext& ctx, Stream stream, std::uint64_t id)
      : ctx_(ctx),
        stream_(std::move(stream)),
        id_(id),
        close_timer_(stream_.get_executor()),
        in_(kReadChunk) {}

  ~H2Session() override {
    if (session_) nghttp2_session_del(session_);
    ctx_.registry.remove(id_, this);
  }

  void start(std::string_view already_read) {
    ctx_.stats.on_protocol_chosen(WireProtocol::http2);
    peer_cn_ = peer_common_name(stream_);
    // Window updates are ours (each DATA chunk is consumed as it arrives):
    // nghttp2 1.52's automatic mode, on sending a WINDOW_UPDATE it queued
    // before our lowered SETTINGS_INITIAL_WINDOW_SIZE was acknowledged,
    // checks the data received meanwhile against the new, smaller window and
    // resets the stream with FLOW_CONTROL_ERROR although the client sent it
    // under the old one (seen under TSan in the window-shrink test).
    nghttp2_option* opt = nullptr;
    if (nghttp2_option_new(&opt) != 0) return close_now();
    nghttp2_option_set_no_auto_window_update(opt, 1);
    const int created = nghttp2_session_server_new2(&session_, callbacks(), this, opt);
    nghttp2_option_del(opt);
    if (created != 0) return close_now();

    submit_initial_settings(session_, ctx_.options);

    switch (ctx_.registry.admit(id_, this->shared_from_this(), stream_.get_executor())) {
      case ConnectionRegistry::Admission::serve: break;
      case ConnectionRegistry::Admission::drain: drain(); break;
      case ConnectionRegistry::Admission::abort: return abort();
    }
    if (!already_read.empty() && !receive(reinterpret_cast<const uint8_t*>(already_read.data()), already_read.size())) {
      return;
    }
    flush();
    if (state_ == State::open || state_ == State::draining) read_more();
  }

  void abort() override {
    if (state_ == State::closed) return;
    state_ = State::closed;
    cancel_timers();
    cancel_streams();
    reset_close(tcp_layer(stream_));
  }

  void drain() override {
    stopping_ = true;
    goaway(-1, NGHTTP2_NO_ERROR);
    // Like an API server shutting down: streamed bodies end cleanly
    // (END_STREAM after what was written), so watchers see a clean end.
    for (auto& [id, stream] : streams_)
      if (stream->body_stream) stream->body_stream->drain();
  }

  void change_initial_window_size(std::uint32_t size) override {
    if (state_ != State::open) return;
    const nghttp2_settings_entry entry{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, size};
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, &entry, 1) != 0) return;
    flush();
  }

  void goaway(std::int32_t last_stream_id, std::uint32_t error_code) override {
    if (state_ != State::open && state_ != State::draining) return;
    if (last_stream_id < 0) last_stream_id = nghttp2_session_get_last_proc_stream_id(session_);
    if (nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, last_stream_id, error_code, nullptr, 0) != 0) return;
    goaway_last_ = std::min(goaway_last_, last_stream_id);
    state_ = State::draining;
    for (auto& [id, stream] : streams_) {
      if (id > goaway_last_) {
        stream->abandoned = true;
        stream->delay.reset();
      }
    }
    flush();
  }

 private:
  enum class State {
    open,      // taking new streams
    draining,  // GOAWAY sent: finishing streams <= goaway_last_, then closing
    closing,   // lingering close in progress
    closed,    // socket closed; pending handlers just return
  };

  // --- I/O -----------------------------------------------------------------

  void read_more() {
    reading_ = true;
    stream_.async_read_some(asio::buffer(in_), [self = this->shared_from_this()](error_code ec, std::size_t n) {
      self->reading_ = false;
      self->on_read(ec, n);
    });
  }

  void on_read(error_code ec, std::size_t n) {
    switch (state_) {
      case State::closed: return;
      case State::closing: return start_lingering_close();  // our cancel() ended the read
      case State::open:
      case State::draining: break;
    }
    if (ec) return close_now();  // peer closed or reset: nothing more to deliver
    if (!receive(in_.data(), n)) return;
    flush();
    if (state_ == State::open || state_ == State::draining) read_more();
  }

  /// Feeds bytes to nghttp2; false when the connection was closed meanwhile.
  bool receive(const uint8_t* data, std::size_t size) {
    const auto rv = nghttp2_session_mem_recv(session_, data, size);
    if (drop_requested_) {
      abort();
      return false;
    }
    if (rv < 0) {
      // nghttp2 has queued a GOAWAY for protocol errors: try to send it.
      flush();
      if (state_ != State::closed) close_now();
      return false;
    }
    return true;
  }

  void flush() {
    if (writing_ || state_ == State::closed || state_ == State::closing) return;
    while (out_.size() < kWriteBatch) {
      const uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return close_now();
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (!out_.empty()) {
      writing_ = true;
      asio::async_write(stream_, asio::buffer(out_), [self = this->shared_from_this()](error_code ec, std::size_t) {
        self->writing_ = false;
        self->out_.clear();
        if (self->state_ == State::closed) return;
        if (ec) return self->close_now();
        self->flush();
      });
      return;
    }
    if (finished()) begin_lingering_close();
  }

  /// Nothing left to do on this connection (only asked with no output pending).
  bool finished() const {
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) return true;
    if (state_ != State::draining) return false;
    return std::none_of(streams_.begin(), streams_.end(),
                        [&](const auto& entry) { return entry.first <= goaway_last_; });
  }

  void begin_lingering_close() {
    state_ = State::closing;
    cancel_timers();
    if (reading_) {
      // The read handler starts the close once the cancelled read returns:
      // no other operation may be pending on the stream during it.
      error_code ignored;
      tcp_layer(stream_).cancel(ignored);
      return;
    }
    start_lingering_close();
  }

  void start_lingering_close() { lingering_close(stream_, close_timer_, this->shared_from_this()); }

  void close_now() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    cancel_timers();
    cancel_streams();
    immediate_close(tcp_layer(stream_));
  }

  void cancel_timers() {
    for (auto& [id, stream] : streams_) stream->delay.reset();
  }

  // The connection is gone: producers of streamed bodies stop now, not when
  // the session object finally goes.
  void cancel_streams() {
    for (auto& [id, stream] : streams_) {
      if (stream->body_stream) stream->body_stream->cancel();
      if (stream->held.stream) stream->held.stream->cancel();
    }
  }

  // A producer wrote (or ended) after the provider deferred: send it.
  void resume_stream(std::int32_t id) {
    if (state_ == State::closed || state_ == State::closing) return;
    if (!streams_.contains(id)) return;
    nghttp2_session_resume_data(session_, id);  // not deferred: nothing to do, and it says so
    flush();
  }

  // --- requests and responses ------------------------------------------------

  H2Stream* find(std::int32_t stream_id) {
    return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session_, stream_id));
  }

  void dispatch(H2Stream& s) {
    s.dispatched = true;
    if (s.abandoned) return;
    ServerRequest& request = s.request;
    request.path = request.target.substr(0, request.target.find('?'));
    const bool has_host = std::any_of(request.headers.begin(), request.headers.end(),
                                      [](const auto& h) { return h.first == "host"; });
    if (!has_host && !s.authority.empty()) request.headers.emplace(request.headers.begin(), "host", s.authority);
    s.head = request.method == "HEAD";

    ctx_.stats.on_request(request);
    ServerResponse response = ctx_.answer(request, peer_cn_);
    request = ServerRequest{};  // the request body can be large: free it now

    if (auto code = ctx_.faults.claim_stream_reset()) {
      if (response.stream) response.stream->cancel();
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, *code);
      return;
    }
    if (ctx_.faults.claim_request_drop()) {
      if (response.stream) response.stream->cancel();
      // Closing inside an nghttp2 callback would free what it is using:
      // receive() resets the connection as soon as mem_recv returns.
      drop_requested_ = true;
      return;
    }
    if (response.delay.count() > 0) {
      s.held = std::move(response);
      s.delay = std::make_unique<asio::steady_timer>(stream_.get_executor(), s.held.delay);
      s.delay->async_wait([self = this->shared_from_this(), id = s.id](error_code ec) {
        if (ec || self->state_ == State::closed || self->state_ == State::closing) return;
        // The stream may have been reset by the client while we waited.
        auto it = self->streams_.find(id);
        if (it == self->streams_.end()) return;
        self->respond(*it->second, std::move(it->second->held));
        self->flush();
      });
      return;
    }
    respond(s, std::move(response));
  }

  void respond(H2Stream& s, ServerResponse&& response) {
    if (s.abandoned) {
      if (response.stream) response.stream->cancel();
      return;
    }
    s.body = std::move(response.body);
    s.sent = 0;
    const bool bodiless_status = response.status == 204 || response.status == 304;
    if (response.stream && (s.head || bodiless_status)) {
      response.stream->cancel();  // no body to stream
      response.stream.reset();
    }
    s.body_stream = std::move(response.stream);
    const ResponseHeaderBlock block(response, s.body.size(), bodiless_status, static_cast<bool>(s.body_stream));

    nghttp2_data_provider provider{};
    provider.source.ptr = &s;
    provider.read_callback = s.body_stream ? &read_streamed_body : &read_whole_body;
    const bool send_body = s.body_stream || (!s.head && !bodiless_status && !s.body.empty());
    if (s.body_stream) {
      std::weak_ptr<H2Session> weak = this->shared_from_this();
      s.body_stream->attach([weak, id = s.id, executor = stream_.get_executor()] {
        asio::post(executor, [weak, id] {
          if (auto self = weak.lock()) self->resume_stream(id);
        });
      });
      // stop() came while the handler's answer was held back: end at once.
      if (stopping_) s.body_stream->drain();
    }
    // nghttp2 copies the header block, so `block` may go out of scope.
    nghttp2_submit_response(session_, s.id, block.nva.data(), block.nva.size(), send_body ? &provider : nullptr);
  }

  // --- nghttp2 callbacks -----------------------------------------------------

  static const nghttp2_session_callbacks* callbacks() {
    static const auto* table = [] {
      nghttp2_session_callbacks* cbs = nullptr;
      nghttp2_session_callbacks_new(&cbs);
      nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &H2Session::on_begin_headers);
      nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Session::on_header);
      nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Session::on_data_chunk);
      nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2Session::on_frame_recv);
      nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Session::on_stream_close);
      return cbs;  // shared by every session for the life of the process
    }();
    return table;
  }

  static H2Session& self(void* user_data) { return *static_cast<H2Session*>(user_data); }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    H2Session& me = self(user_data);
    const std::int32_t id = frame->hd.stream_id;
    if (id > me.goaway_last_) return 0;  // after our GOAWAY: never answered
    if (me.ctx_.faults.refusing()) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    auto stream = std::make_unique<H2Stream>();
    stream->id = id;
    stream->request.protocol = "HTTP/2";
    stream->request.connection_id = me.id_;
    nghttp2_session_set_stream_user_data(session, id, stream.get());
    me.streams_[id] = std::move(stream);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_len,
                       const uint8_t* value, size_t value_len, uint8_t, void* user_data) {
    H2Session& me = self(user_data);
    H2Stream* s = me.find(frame->hd.stream_id);
    if (!s || s->dispatched) return 0;
    s->take_header({reinterpret_cast<const char*>(name), name_len}, {reinterpret_cast<const char*>(value), value_len});
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                           void* user_data) {
    nghttp2_session_consume(session, stream_id, len);  // see start(): window updates are manual
    H2Session& me = self(user_data);
    H2Stream* s = me.find(stream_id);
    if (!s || s->dispatched || s->abandoned) return 0;
    if (!s->take_body({reinterpret_cast<const char*>(data), len})) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
      s->dispatched = true;
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA: break;
      default: return 0;
    }
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    H2Session& me = self(user_data);
    H2Stream* s = me.find(frame->hd.stream_id);
    if (s && !s->dispatched && !me.drop_requested_) me.dispatch(*s);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    self(user_data).streams_.erase(stream_id);
    return 0;
  }


  ServerContext& ctx_;
  Stream stream_;
  const std::uint64_t id_;
  std::string peer_cn_;  // the verified client certificate's CN, or ""
  nghttp2_session* session_ = nullptr;
  State state_ = State::open;
  std::map<std::int32_t, std::unique_ptr<H2Stream>> streams_;
  std::int32_t goaway_last_ = INT32_MAX;  // streams above it are not answered
  asio::steady_timer close_timer_;
  std::vector<uint8_t> in_;
  std::string out_;  // one batch of frames, written by one async_write
  bool reading_ = false;
  bool writing_ = false;
  bool drop_requested_ = false;  // drop_next_requests hit: reset after mem_recv
  bool stopping_ = false;        // drain() (stop()): streamed bodies end as soon as they start
};

template <class Stream>
void run(ServerContext& ctx, Stream stream, std::uint64_t id, std::string_view already_read) {
  std::make_shared<H2Session<Stream>>(ctx, std::move(stream), id)->start(already_read);
}

}  // namespace

void run_h2_session(ServerContext& ctx, tcp::socket stream, std::uint64_t id, std::string_view already_read) {
  run(ctx, std::move(stream), id, already_read);
}

void run_h2_session(ServerContext& ctx, TlsStream stream, std::uint64_t id, std::string_view already_read) {
  run(ctx, std::move(stream), id, already_read);
}

}  // namespace rebound::server::detail
