// An HTTP/1.1 connection on Boost.Beast: keep-alive, pipelined requests
// served in order, Content-Length and chunked request bodies, Expect:
// 100-continue, an idle timeout between requests, and the fault switches
// (refuse: close before the handler; drop: RST after the handler).
// A streamed response (ServerResponse::stream) goes out with chunked transfer
// encoding as the producer writes it; meanwhile a read stays pending only to
// notice the client going away, and the connection closes after the stream.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "peer_identity.hpp"
#include "sessions.hpp"

namespace rebound::server::detail {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kStreamChunk = 64 * 1024;  // at most this much per chunk of a streamed body

// One chunk of a chunked body: size in hex, CRLF, data, CRLF.
void append_chunk(std::string& out, std::string_view data) {
  char size[20];
  const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
  out.append(size, end);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

template <class Stream>
class H1Session final : public ConnectionHandle, public std::enable_shared_from_this<H1Session<Stream>> {
 public:
  H1Session(ServerContext& ctx, Stream stream, std::uint64_t id)
      : ctx_(ctx),
        stream_(std::move(stream)),
        id_(id),
        timer_(stream_.get_executor()),
        close_timer_(stream_.get_executor()) {}
  ~H1Session() override {
    // However the connection ended, a producer still writing learns it.
    if (held_.stream) held_.stream->cancel();
    if (body_stream_) body_stream_->cancel();
    ctx_.registry.remove(id_, this);
  }

  void start(std::string_view already_read) {
    ctx_.stats.on_protocol_chosen(WireProtocol::http1);
    peer_cn_ = peer_common_name(stream_);
    if (!already_read.empty()) {
      auto space = buffer_.prepare(already_read.size());
      std::memcpy(space.data(), already_read.data(), already_read.size());
      buffer_.commit(already_read.size());
    }
    switch (ctx_.registry.admit(id_, this->shared_from_this(), stream_.get_executor())) {
      case ConnectionRegistry::Admission::serve: break;
      case ConnectionRegistry::Admission::drain: drain(); return;
      case ConnectionRegistry::Admission::abort: abort(); return;
    }
    read_request();
  }

  void abort() override {
    if (state_ == State::closed) return;
    state_ = State::closed;
    timer_.cancel();
    close_timer_.cancel();
    if (body_stream_) body_stream_->cancel();
    reset_close(tcp_layer(stream_));
  }

  void drain() override {
    switch (state_) {
      case State::reading:
        // Idle (or mid-request, which the client will see as a closed
        // idle connection): close now.
        state_ = State::closed;
        timer_.cancel();
        immediate_close(tcp_layer(stream_));
        return;
      case State::continuing:
      case State::handling:
      case State::writing: drain_requested_ = true; return;
      case State::streaming:
        // Like an API server shutting down: what was written goes out, then
        // the last chunk, so the client sees a clean end of its watch.
        drain_requested_ = true;
        body_stream_->drain();
        return;
      case State::closing:
      case State::closed: return;
    }
  }

 private:
  enum class State {
    reading,     // waiting for (the rest of) a request
    continuing,  // writing "100 Continue", then reading the body
    handling,    // handler ran, response held back by its delay
    writing,     // writing the response
    streaming,   // writing a streamed response's header and chunks as they come
    closing,     // lingering close after the last response
    closed,      // socket closed; handlers still pending just return
  };

  void read_request() {
    state_ = State::reading;
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    arm_idle_timer();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void arm_idle_timer() {
    const auto idle = ctx_.options.h1_idle_timeout;
    if (idle.count() <= 0) return;
    const std::uint64_t generation = ++read_generation_;
    timer_.expires_after(idle);
    timer_.async_wait([self = this->shared_from_this(), generation](error_code ec) {
      // The generation check ignores a timer that completed just as the
      // request arrived (cancel() cannot recall a queued completion).
      if (ec || self->state_ != State::reading || generation != self->read_generation_) return;
      self->state_ = State::closed;
      immediate_close(tcp_layer(self->stream_));
    });
  }

  void on_header(error_code ec) {
    if (state_ != State::reading) return;
    ++read_generation_;
    timer_.cancel();
    if (ec) return close_after_read_error(ec);
    if (ctx_.faults.refusing()) {
      state_ = State::closed;
      immediate_close(tcp_layer(stream_));
      return;
    }
    const auto& req = parser_->get();
    if (!parser_->is_done() && boost::beast::iequals(req[http::field::expect], "100-continue")) {
      state_ = State::continuing;
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = this->shared_from_this()](error_code ec, std::size_t) {
                          if (self->state_ != State::continuing) return;
                          if (ec) return self->close_now();
                          self->state_ = State::reading;
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (self->state_ != State::reading) return;
      if (ec) return self->close_after_read_error(ec);
      self->on_request();
    });
  }

  void close_after_read_error(error_code ec) {
    if (ec == http::error::body_limit) {
      ServerResponse too_large{413, {{"content-type", "text/plain"}}, "request body too large\n"};
      keep_alive_ = false;
      head_ = false;
      return write_response(std::move(too_large));
    }
    close_now();
  }

  void on_request() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();

    ServerRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.path = request.target.substr(0, request.target.find('?'));
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) request.headers.emplace_back(lower(field.name_string()), field.value());
    request.body = std::move(message.body());
    request.protocol = "HTTP/1.1";
    request.connection_id = id_;

    ctx_.stats.on_request(request);
    ServerResponse response = ctx_.answer(request, peer_cn_);
    if (ctx_.faults.claim_request_drop()) {
      if (response.stream) response.stream->cancel();
      return abort();
    }

    keep_alive_ = message.keep_alive() && !drain_requested_;
    head_ = message.method() == http::verb::head;
    if (response.delay.count() > 0) {
      state_ = State::handling;
      held_ = std::move(response);
      timer_.expires_after(held_.delay);
      timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (ec || self->state_ != State::handling) return;
        self->write_response(std::move(self->held_));
      });
      return;
    }
    write_response(std::move(response));
  }

  void write_response(ServerResponse response) {
    if (response.stream) {
      if (!head_) return start_stream(std::move(response));
      response.stream->cancel();  // a HEAD answer has no body to stream
      response.stream.reset();
    }
    state_ = State::writing;
    if (drain_requested_) keep_alive_ = false;
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(response.status));
    for (auto& [name, value] : response.headers) response_.insert(name, value);
    response_.keep_alive(keep_alive_);
    if (head_) {
      response_.content_length(response.body.size());
    } else {
      response_.body() = std::move(response.body);
      response_.prepare_payload();
    }
    http::async_write(stream_, response_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(error_code ec) {
    if (state_ != State::writing) return;
    response_.body().clear();
    response_.body().shrink_to_fit();  // don't keep a 16 MiB body per idle connection
    if (ec) return close_now();
    if (!keep_alive_ || drain_requested_) {
      state_ = State::closing;
      return lingering_close(stream_, close_timer_, this->shared_from_this());
    }
    read_request();
  }

  void close_now() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    timer_.cancel();
    if (body_stream_) body_stream_->cancel();
    immediate_close(tcp_layer(stream_));
  }

  // --- streamed responses ------------------------------------------------------

  void start_stream(ServerResponse response) {
    state_ = State::streaming;
    keep_alive_ = false;  // the connection closes after the stream: no read may follow the peer-watch read
    body_stream_ = std::move(response.stream);
    const auto status = static_cast<unsigned>(response.status);
    stream_out_ = "HTTP/1.1 " + std::to_string(status) + " " +
                  std::string(http::obsolete_reason(http::int_to_status(status))) + "\r\n";
    for (const auto& [name, value] : response.headers) {
      const std::string key = lower(name);
      if (key == "content-length" || key == "transfer-encoding" || key == "connection") continue;
      stream_out_ += name + ": " + value + "\r\n";
    }
    stream_out_ += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    std::weak_ptr<H1Session> weak = this->shared_from_this();
    body_stream_->attach([weak, executor = stream_.get_executor()] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) self->pump_stream();
      });
    });
    // stop() came while the handler's answer was held back: end at once.
    if (drain_requested_) body_stream_->drain();
    watch_peer();
    pump_stream();
  }

  // A read that only ends when the client closes or resets the connection
  // (or sends something, which is discarded: the connection ends with the
  // stream), so a watcher that goes away ends its stream at once.
  void watch_peer() {
    peer_reading_ = true;
    stream_.async_read_some(asio::buffer(peer_scratch_), [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->peer_reading_ = false;
      switch (self->state_) {
        case State::streaming:
          if (ec) return self->close_now();  // the client went away: cancel the producer
          return self->watch_peer();
        case State::closing: return self->start_lingering_close();  // our cancel() ended the read
        case State::reading:
        case State::continuing:
        case State::handling:
        case State::writing:
        case State::closed: return;
      }
    });
  }

  void pump_stream() {
    if (state_ != State::streaming || stream_writing_) return;
    if (stream_out_.empty()) {
      auto chunk = body_stream_->take(kStreamChunk);
      if (chunk.cancelled) {
        // The producer gave up (or the client stopped reading): end abruptly,
        // so the client cannot mistake a cut body for a complete one.
        state_ = State::closed;
        return reset_close(tcp_layer(stream_));
      }
      if (!chunk.data.empty()) append_chunk(stream_out_, chunk.data);
      if (chunk.finished) {
        stream_out_ += "0\r\n\r\n";
        stream_finished_ = true;
      }
      if (stream_out_.empty()) return;  // the stream wakes us when there is more
    }
    stream_writing_ = true;
    asio::async_write(stream_, asio::buffer(stream_out_), [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->stream_writing_ = false;
      self->stream_out_.clear();
      if (self->state_ != State::streaming) return;
      if (ec) return self->close_now();
      if (self->stream_finished_) return self->end_stream();
      self->pump_stream();
    });
  }

  // The last chunk is out: close the connection gracefully.
  void end_stream() {
    state_ = State::closing;
    if (peer_reading_) {
      // The peer-watch read's handler starts the close once it returns: no
      // other operation may be pending on the stream during it.
      error_code ignored;
      tcp_layer(stream_).cancel(ignored);
      return;
    }
    start_lingering_close();
  }

  void start_lingering_close() { lingering_close(stream_, close_timer_, this->shared_from_this()); }

  ServerContext& ctx_;
  Stream stream_;
  const std::uint64_t id_;
  State state_ = State::reading;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  ServerResponse held_;               // a delayed response, until its timer fires
  asio::steady_timer timer_;          // idle timeout while reading; response delay while handling
  asio::steady_timer close_timer_;    // bounds the lingering close
  std::uint64_t read_generation_ = 0;
  bool keep_alive_ = true;
  bool head_ = false;
  bool drain_requested_ = false;      // stop(): close after the response in progress
  std::string peer_cn_;               // the verified client certificate's CN, or ""
  // A streamed response (State::streaming):
  std::shared_ptr<ResponseStream> body_stream_;
  std::string stream_out_;            // header / chunk being written
  bool stream_writing_ = false;
  bool stream_finished_ = false;      // stream_out_ ends with the last chunk
  bool peer_reading_ = false;         // the peer-watch read is pending
  std::array<char, 512> peer_scratch_{};
};

template <class Stream>
void run(ServerContext& ctx, Stream stream, std::uint64_t id, std::string_view already_read) {
  std::make_shared<H1Session<Stream>>(ctx, std::move(stream), id)->start(already_read);
}

}  // namespace

void run_h1_session(ServerContext& ctx, tcp::socket stream, std::uint64_t id, std::string_view already_read) {
  run(ctx, std::move(stream), id, already_read);
}

void run_h1_session(ServerContext& ctx, TlsStream stream, std::uint64_t id, std::string_view already_read) {
  run(ctx, std::move(stream), id, already_read);
}

}  // namespace rebound::server::detail
