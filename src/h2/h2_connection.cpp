// HTTP/2 connection: nghttp2 fed from Asio. One read always pending; output
// batched (every frame nghttp2 has ready, up to 64 KiB, written after the
// handlers already queued have added theirs) into single writes;
// completions of attempts go to the pool as soon as nghttp2 reports them,
// capacity changes after each batch of input so the pool never re-enters
// nghttp2 from inside its callbacks.
#include "h2/h2_connection.hpp"

#include "h2/flood_guard.hpp"
#include "h2/h2_session.hpp"
#include "h2/h2_stream.hpp"
#include "h2/health_check.hpp"
#include "h2/stream_table.hpp"
#include "net/tls_stream.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace rebound::h2 {

namespace {

namespace asio = boost::asio;
using conn::ConnState;
using inflight::Clock;

constexpr std::size_t max_batch = 64 * 1024;


class H2Connection final : public conn::Connection,
                           public SessionEvents,
                           public std::enable_shared_from_this<H2Connection> {
 public:
  H2Connection(conn::ConnectionOwner& owner, std::uint64_t id, std::unique_ptr<net::Stream> stream,
               const Options& options)
      : Connection(owner, id, Protocol::http2), stream_(std::move(stream)), options_(options),
        health_timer_(stream_->get_executor()),
        health_(options.read_idle_timeout, options.ping_timeout, Clock::now()) {}

  void start() {
    session_ = make_client_session(*this, options_);
    streams_.attach(session_.get());
    read_more();
    flush();
    arm_health_check(health_.first_check());
  }

  std::size_t active() const noexcept override { return streams_.size(); }
  bool limits_pending() const noexcept override { return health_.limits_pending(); }
  bool suspect() const noexcept override { return health_.suspect() && state() != ConnState::closed; }

  void submit(std::shared_ptr<inflight::Exchange> ex) override {
    const HeaderBlock headers(ex->request(), ex->url());
    nghttp2_data_provider body{};
    body.read_callback = read_body_trampoline;
    const bool has_body = ex->request().has_body();
    // nghttp2 calls back only from mem_send/mem_recv, so the stream's state
    // can be added once its id is known.
    StreamTable::Slot* slot = streams_.prepare();
    const int32_t sid = nghttp2_submit_request(session_.get(), nullptr, headers.data(), headers.size(),
                                               has_body ? &body : nullptr, StreamTable::user_data(slot));
    if (sid < 0) {
      streams_.discard(slot);
      // This connection cannot open streams any more (ids exhausted, the
      // session ending): it leaves the usable set before the attempt goes
      // back, so the retry lands on another connection, never this one.
      stop_taking_streams();
      if (auto* o = owner())
        o->on_attempt_done(ex, Error(errc::connection_closed,
                                     describe() + ": cannot open a stream: " + nghttp2_strerror(sid),
                                     progress::not_sent));
      update_capacity(false);
      return;
    }
    ex->set_carrier(this);
    StreamState& st = streams_.open(slot, sid);
    st.ex = std::move(ex);
    st.reused = used();
    if (st.ex->request().body_writer()) st.start_writer(body_wake(sid, st.ex));
    mark_used();
    // The last stream id was just used: drain before a request can fail on
    // it (Go does the same), so the pool dials a fresh connection.
    if (nghttp2_session_get_next_stream_id(session_.get()) > static_cast<std::uint32_t>(max_stream_id))
      stop_taking_streams();
    update_capacity(false);
    flush_soon();
  }

  void abandon(inflight::Exchange& ex, Abandon why) override {
    for (auto& [sid, st] : streams_) {
      if (st.ex.get() != &ex) continue;
      st.ex.reset();
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
      if (why == Abandon::timed_out) probe();
      flush_soon();
      return;
    }
  }

  void shutdown() override {
    if (state() == ConnState::closed) return;
    stop_taking_streams();
    nghttp2_session_terminate_session(session_.get(), NGHTTP2_NO_ERROR);
    flush();
  }

  void close(const Error& why) override { close_now(why); }

  void retire(std::string why) override {
    if (state() == ConnState::closed || state() == ConnState::draining) return;
    drain_reason_ = std::move(why);
    stop_taking_streams();
    if (auto* o = owner()) o->on_capacity_changed(*this);
    // Nothing left to finish: nothing else would come to close it.
    if (state() == ConnState::draining && streams_.empty()) close_now(drained());
  }

  // --- nghttp2 events ---
  int on_begin_headers(const nghttp2_frame*) override { return 0; }

  int on_header(const nghttp2_frame* frame, std::string_view name, std::string_view value) override {
    StreamState* st = find(frame->hd.stream_id);
    // Abandoned (deadline, cancel): its RST_STREAM may still wait behind a
    // busy write while the server answers. Nobody reads this response.
    if (!st || !st->ex) return 0;
    flood_.count_used(name.size() + value.size());
    return st->take_header(name, value, options_);
  }

  int on_frame_recv(const nghttp2_frame* frame) override {
    // The request is done (RFC 9113 section 8.1); the rest of our stream goes.
    if (StreamState* st = find(frame->hd.stream_id); st && st->answered_before_body_ended(frame->hd))
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (StreamState* st = find(frame->hd.stream_id); st && st->response_started) st->end_headers();
        health_.on_headers_or_data();
        break;
      case NGHTTP2_DATA: health_.on_headers_or_data(); break;
      case NGHTTP2_GOAWAY: on_goaway(frame->goaway); break;
      case NGHTTP2_SETTINGS:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) health_.on_settings_acked();
        else health_.on_peer_settings();  // capacity follows this read
        break;
      case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && health_.on_ping_ack())
          if (auto* o = owner()) o->on_connection_event(*this, EventKind::ping_acked, describe());
        break;
      default: break;
    }
    return 0;
  }

  int on_frame_send(const nghttp2_frame* frame) override {
    if (frame->hd.type == NGHTTP2_HEADERS)
      if (StreamState* st = find(frame->hd.stream_id)) st->headers_sent = true;
    // nghttp2 resets a stream, or ends the connection, when the server broke
    // the protocol; our own resets (cancel, a limit we hit) say why elsewhere.
    if (frame->hd.type == NGHTTP2_RST_STREAM && frame->rst_stream.error_code != NGHTTP2_CANCEL &&
        frame->rst_stream.error_code != NGHTTP2_NO_ERROR)
      if (StreamState* st = find(frame->hd.stream_id); st && st->ex && !st->local_error && st->violation.empty())
        st->violation = std::string("rebound reset the stream with ") + h2_error_name(frame->rst_stream.error_code);
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR && violation_.empty())
      violation_ = std::string("rebound ended the connection with ") + h2_error_name(frame->goaway.error_code);
    return 0;
  }

  int on_begin_frame(const nghttp2_frame_hd& hd) override {
    // Frames come only inside on_read's mem_recv: that read's time serves them.
    if (auto why = flood_.on_frame(hd, read_time_)) calm_down(std::move(*why));
    return 0;
  }

  // GOAWAY(ENHANCE_YOUR_CALM): the connection ends once it is written.
  void calm_down(std::string why) {
    if (!violation_.empty() && violation_.rfind("rebound ", 0) != 0) return;
    violation_ = "a flood: " + std::move(why);
    nghttp2_session_terminate_session(session_.get(), NGHTTP2_ENHANCE_YOUR_CALM);
    stop_taking_streams();
  }

  void on_violation(std::int32_t sid, std::string_view what) override {
    if (sid != 0)
      if (StreamState* st = find(sid); st && st->ex && st->violation.empty()) {
        st->violation = std::string(what);
        return;
      }
    if (violation_.empty() || violation_.rfind("rebound ", 0) == 0) violation_ = std::string(what);
  }

  int on_data_chunk(std::int32_t sid, const std::uint8_t* data, std::size_t len) override {
    StreamState* st = find(sid);
    if (!st || !st->ex) return 0;
    flood_.count_used(len);
    if (!st->take_data({reinterpret_cast<const char*>(data), len}, options_))
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    return 0;
  }

  int on_stream_close(std::int32_t sid, std::uint32_t code) override {
    streams_.close(sid, [&](StreamState& st) {  // no longer open here; its slot is reused after this
      if (streams_.empty()) mark_idle();
      auto* o = owner();
      if (!st.ex || !o) return;  // abandoned (deadline or cancel already completed it), or orphaned
      if (code == NGHTTP2_NO_ERROR && st.response_started && !st.local_error) {
        st.response.protocol(Protocol::http2).connection(id(), st.reused);
        o->on_attempt_done(st.ex, std::move(st.response));
        return;
      }
      o->on_attempt_done(st.ex, st.failure(describe(), code));
    });
    return 0;
  }

  ssize_t read_body(std::int32_t sid, std::uint8_t* buf, std::size_t length,
                    std::uint32_t* data_flags) override {
    StreamState* st = find(sid);
    if (!st || !st->ex) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return st->read_request_body(buf, length, data_flags);
  }

 private:
  // Runs on the writer's thread when bytes arrive for a deferred stream:
  // its data resumes on ours, if the attempt still runs here.
  std::function<void()> body_wake(std::int32_t sid, const std::shared_ptr<inflight::Exchange>& ex) {
    return [self = weak_from_this(), executor = stream_->get_executor(), sid, ex = std::weak_ptr(ex)] {
      asio::post(executor, [self, sid, ex] {
        const auto c = self.lock();
        const StreamState* st = c ? c->find(sid) : nullptr;
        if (!st || !st->ex || st->ex != ex.lock() || c->state() == ConnState::closed) return;
        nghttp2_session_resume_data(c->session_.get(), sid);
        c->flush_soon();
      });
    };
  }

  StreamState* find(std::int32_t sid) { return streams_.find(sid); }

  void on_goaway(const nghttp2_goaway& g) {
    // State first: whatever the event leads to never sees a usable connection.
    // nghttp2 closes the streams above last-stream-id with REFUSED_STREAM:
    // they reach the pool as "refused", retried whatever their method.
    stop_taking_streams();
    if (auto* o = owner()) o->on_capacity_changed(*this);
    if (auto* o = owner())
      o->on_connection_event(*this, EventKind::goaway,
                             describe() + ": GOAWAY last-stream-id " + std::to_string(g.last_stream_id) +
                                 " " + h2_error_name(g.error_code));
  }

  void stop_taking_streams() {
    if (state() == ConnState::ready || state() == ConnState::busy) transition(ConnState::draining);
  }

  // Into the thread's buffer, not one of our own (stream.hpp says why).
  void read_more() {
    stream_->async_read_shared(
        [self = shared_from_this()](boost::system::error_code ec, const std::uint8_t* data, std::size_t n) {
          self->on_read(ec, data, n);
        });
  }

  void on_read(boost::system::error_code ec, const std::uint8_t* data, std::size_t n) {
    if (state() == ConnState::closed) return;
    if (ec) {
      close_now(ending(net::is_certificate_rejection(ec) ? errc::client_certificate_rejected : errc::connection_closed,
                       ec.message()));
      return;
    }
    read_time_ = Clock::now();
    health_.on_input(read_time_);  // it speaks: alive (a suspect connection takes streams again)
    const ssize_t rv = nghttp2_session_mem_recv(session_.get(), data, n);
    if (rv < 0) {
      on_violation(0, nghttp2_strerror(static_cast<int>(rv)));
      close_now(ending(errc::protocol_error, nghttp2_strerror(static_cast<int>(rv))));
      return;
    }
    // Bytes of this read that reached no live stream count toward a flood.
    const std::size_t flood_limit = std::max<std::size_t>(options_.h2_connection_window, 1u << 20);
    if (auto why = flood_.on_read(n, flood_limit, read_time_)) calm_down(std::move(*why));
    if (state() == ConnState::closed) return;
    update_capacity(true);
    flush_soon();
    if (state() != ConnState::closed) read_more();
  }

  // Moves between ready and busy as streams open and close, and closes a
  // drained connection. Tells the pool when capacity appeared.
  void update_capacity(bool notify) {
    if (state() == ConnState::draining) {
      if (streams_.empty()) close_now(drained());
      return;
    }
    if (state() == ConnState::closed) return;
    const auto limit = stream_limit(session_.get(), options_, health_.limits_pending());
    const bool has_room = streams_.size() < limit && !health_.suspect();
    const ConnState want = has_room ? ConnState::ready : ConnState::busy;
    if (want != state()) transition(want);
    if (!notify) return;
    // The server's first SETTINGS: the pool held dials back for them, and
    // must hear of them even when they leave no room here.
    const bool limits_learned = !health_.limits_pending() && !limits_reported_;
    if (limits_learned) limits_reported_ = true;
    if (auto* o = owner()) {
      if (has_room) o->on_ready(*this);
      else if (limits_learned) o->on_capacity_changed(*this);
    }
  }

  // Writes once the handlers already queued have run: the requests their
  // completions start (a closed loop resubmits from the callback) leave in
  // the same write instead of one write each; on loopback that was 11x the
  // writes of h2load and most of the kernel time.
  void flush_soon() {
    if (flush_posted_ || writing_ || state() == ConnState::closed) return;
    flush_posted_ = true;
    asio::post(stream_->get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->flush();
    });
  }

  void flush() {
    if (writing_ || state() == ConnState::closed) return;
    out_.clear();
    if (const int rv = collect_output(session_.get(), out_, max_batch); rv < 0)
      return close_now(Error(errc::protocol_error, describe() + ": " + nghttp2_strerror(rv)));
    if (out_.empty()) {
      if (!nghttp2_session_want_read(session_.get()) && !nghttp2_session_want_write(session_.get()))
        close_now(ending(errc::connection_closed, "session ended"));
      // Draining, and the last stream ended by our own frame (an RST_STREAM
      // just written): nothing will read again to notice.
      else if (state() == ConnState::draining && streams_.empty())
        close_now(drained());
      return;
    }
    writing_ = true;
    asio::async_write(*stream_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (self->state() == ConnState::closed) return;
                        if (ec) {
                          self->close_now(Error(errc::connection_closed, self->describe() + ": " + ec.message()));
                          return;
                        }
                        self->flush();
                      });
  }

  // PING after read_idle_timeout without input; no ACK within ping_timeout
  // means the peer is gone without a FIN or RST.
  void arm_health_check(std::chrono::milliseconds after) {
    if (options_.read_idle_timeout.count() <= 0 || state() == ConnState::closed) return;
    health_timer_.expires_after(after);
    health_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_health_timer();
    });
  }

  // A stream timed out (its deadline, a header timeout; not a cancel): the
  // path may have died in silence, and TCP would not say so for minutes.
  // The connection takes no new streams until it proves alive (any input);
  // HealthCheck says whether a PING asks for that proof or, when none may,
  // the connection retires (its open streams finish, and the pool dials a
  // fresh one for what waits: invariant 7).
  void probe() {
    if (state() == ConnState::closed || state() == ConnState::draining) return;
    const auto verdict = health_.on_stream_timed_out();
    if (verdict == HealthCheck::ProbeVerdict::nothing) return;
    update_capacity(false);
    if (verdict == HealthCheck::ProbeVerdict::retire) {
      retire("gave up a second stream with no response since its last probe");
      return;
    }
    if (auto* o = owner()) o->on_capacity_changed(*this);
    if (verdict == HealthCheck::ProbeVerdict::asking) return;  // a PING already asks
    nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, nullptr);
    health_.on_ping_sent(Clock::now());
    if (auto* o = owner()) o->on_connection_event(*this, EventKind::ping_sent, describe() + ": probe after an abandoned stream");
    arm_health_check(options_.ping_timeout);
  }

  Error drained() const { return drained_error(describe(), drain_reason_); }
  Error ending(errc otherwise, const std::string& what) const {
    return ending_error(describe(), violation_, otherwise, what);
  }

  void on_health_timer() {
    if (state() == ConnState::closed) return;
    using Do = HealthCheck::TimerVerdict::Do;
    const auto now = Clock::now();
    const auto verdict = health_.on_timer(now, options_.ping_without_streams || !streams_.empty());
    switch (verdict.what) {
      case Do::close: return close_now(Error(verdict.code, describe() + ": " + verdict.reason));
      case Do::send_ping:
        nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, nullptr);
        health_.on_ping_sent(now);
        if (auto* o = owner()) o->on_connection_event(*this, EventKind::ping_sent, describe());
        flush();
        return arm_health_check(verdict.after);
      case Do::wait: return arm_health_check(verdict.after);
    }
  }

  void close_now(const Error& why) {
    if (state() == ConnState::closed) return;
    transition(ConnState::closed);
    health_timer_.cancel();
    stream_->close();
    std::vector<conn::InFlight> attempts;
    attempts.reserve(streams_.size());
    for (auto& [sid, st] : streams_)
      attempts.push_back({std::move(st.ex), st.headers_sent, st.response_started, st.local_error, {}});
    streams_.clear();
    close_attempts(why, std::move(attempts));
  }

  std::unique_ptr<net::Stream> stream_;
  const Options& options_;
  SessionPtr session_;
  std::vector<std::uint8_t> out_;
  bool writing_ = false;
  bool flush_posted_ = false;
  Clock::time_point read_time_{};  // when the read being parsed arrived
  StreamTable streams_;  // entries are stable: find() pointers stay valid while the stream is open
  asio::steady_timer health_timer_;
  HealthCheck health_;
  bool limits_reported_ = false;  // the pool was told the peer's first SETTINGS arrived
  std::string drain_reason_;  // why we stopped taking streams ourselves, if we did
  // The first protocol violation nghttp2 found on the connection, if any.
  std::string violation_;
  FloodGuard flood_;
};

}  // namespace

std::shared_ptr<conn::Connection> make_connection(conn::ConnectionOwner& owner, std::uint64_t id,
                                                  std::unique_ptr<net::Stream> stream,
                                                  const Options& options) {
  auto c = std::make_shared<H2Connection>(owner, id, std::move(stream), options);
  c->start();
  return c;
}

}  // namespace rebound::h2
