// HTTP/1.1 on Boost.Beast: serialise the request (the body is referenced, not
// copied), parse the response, keep the connection for reuse, and watch it
// while idle. How far a failed attempt got is tracked for the retry part:
// nothing written -> not_sent; written, no header -> sent; header read ->
// response_started.
#include "h1/h1_connection.hpp"

#include "h1/growing_string_body.hpp"
#include "h1/request_head.hpp"
#include "net/tls_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>

#include <functional>
#include <optional>

namespace rebound::h1 {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using conn::ConnState;
using inflight::Exchange;

class H1Connection final : public conn::Connection, public std::enable_shared_from_this<H1Connection> {
 public:
  H1Connection(conn::ConnectionOwner& owner, std::uint64_t id, std::unique_ptr<net::Stream> stream,
               const Options& options, net::ForwardProxy forward)
      : Connection(owner, id, Protocol::http1), stream_(std::move(stream)), options_(options),
        forward_(std::move(forward)) {}

  void start() { read_more(); }

  std::size_t active() const noexcept override { return current_ ? 1 : 0; }

  void submit(std::shared_ptr<Exchange> ex) override {
    transition(ConnState::busy);
    reused_ = used();
    mark_used();
    current_ = std::move(ex);
    current_->set_carrier(this);
    interim_responses_ = 0;
    new_parser();
    write_request();
  }

  void abandon(Exchange& ex, Abandon) override {
    if (current_.get() != &ex) return;
    current_.reset();
    // Half a request/response on the wire cannot be resumed: the connection goes.
    close_now(Error(errc::cancelled, "attempt abandoned"));
  }

  void shutdown() override {
    if (state() == ConnState::closed) return;
    if (!current_) {
      close_now(Error(errc::client_shut_down, "connection shut down"));
      return;
    }
    if (state() != ConnState::draining) transition(ConnState::draining);
  }

  void close(const Error& why) override { close_now(why); }

  void retire(std::string why) override {
    if (state() == ConnState::closed || state() == ConnState::draining) return;
    if (!current_) {
      close_now(Error(errc::connection_closed, describe() + ": retired (" + why + ")"));
      return;
    }
    transition(ConnState::draining);  // closes after its response (finish_response)
    if (auto* o = owner()) o->on_capacity_changed(*this);
  }

 private:
  // One read is always pending, busy or idle. While idle it is the health
  // check: EOF or unsolicited bytes close the connection at once, so a dead
  // connection leaves the pool before anyone picks it. (TLS 1.3 session
  // tickets are consumed inside OpenSSL and never surface here.)
  void read_more() {
    buffer_.reserve(16 * 1024);
    stream_->async_read_some(buffer_.prepare(16 * 1024),
                             [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                               self->on_bytes(ec, n);
                             });
  }

  // A parser for the next response of the current request (a final one
  // follows each interim 1xx).
  void new_parser() {
    parser_.emplace();
    parser_->eager(true);
    // A streamed body is not held in memory, so its size is the caller's business.
    if (current_->request().body_sink()) parser_->body_limit(boost::none);
    else parser_->body_limit(options_.max_response_body);
    parser_->header_limit(options_.max_header_list_size);
    if (current_->request().method() == "HEAD") parser_->skip(true);
    consumed_ = 0;
    trailer_starts_at_.reset();
    // Beast keeps a reference to the callback: it lives in a member.
    on_chunk_header_ = [this](std::uint64_t size, beast::string_view, boost::system::error_code&) {
      if (size == 0) trailer_starts_at_ = consumed_;  // the last chunk: trailer fields follow
    };
    parser_->on_chunk_header(on_chunk_header_);
  }

  // Everything but body bytes that one response may send: a status line,
  // header section, chunk header or trailer section longer than this is a
  // server feeding the client without end.
  std::size_t element_limit() const noexcept { return options_.max_header_list_size + 16 * 1024; }

  void on_bytes(boost::system::error_code ec, std::size_t n) {
    if (state() == ConnState::closed) return;
    buffer_.commit(n);
    if (!current_) {
      // An end of stream is the server's doing; any other error is the
      // path's or the kernel's (keep-alive found the peer silent: ETIMEDOUT)
      // and says so, or a dead path would read as a server's idle timeout.
      const bool closed_by_server = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      close_now(Error(ec ? make_error_code(errc::connection_closed) : make_error_code(errc::protocol_error),
                      describe() + (!ec               ? ": unsolicited bytes on an idle connection"
                                    : closed_by_server ? ": idle connection closed by the server"
                                                       : ": idle connection lost: " + ec.message())));
      return;
    }
    if (ec) {
      // Only a response that has begun can be completed by the end of the
      // connection; Beast's put_eof would turn "no bytes at all" into an
      // empty 200.
      if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) && parser_->got_some()) {
        boost::system::error_code eof_ec;
        parser_->put_eof(eof_ec);  // a body delimited by the connection's end is now complete
        if (!eof_ec && parser_->is_done()) {
          finish_response(false);
          return;
        }
      }
      on_read_failed(ec);
      return;
    }
    for (;;) {
      while (buffer_.size() > 0 && !parser_->is_done()) {
        boost::system::error_code perr;
        const std::size_t used = parser_->put(buffer_.data(), perr);
        buffer_.consume(used);
        consumed_ += used;
        if (perr == http::error::need_more) break;
        if (perr) {
          on_read_failed(perr);
          return;
        }
        if (used == 0) break;
      }
      if (!parser_->is_header_done()) break;
      const unsigned status = parser_->get().result_int();
      if (status < 100 || status > 599) {
        fail(make_error_code(errc::protocol_error), progress::sent,
             "status code " + std::to_string(status) + " is outside 100-599");
        return;
      }
      if (status >= 200) break;
      if (!parser_->is_done()) break;  // an interim response's header is still arriving
      if (!on_interim_response(status)) return;
    }
    if (buffer_.size() > element_limit()) {
      fail(make_error_code(errc::response_too_large),
           parser_->is_header_done() ? progress::response_started : progress::sent,
           "a status line, header or chunk header over " + std::to_string(element_limit()) + " bytes");
      return;
    }
    if (trailer_starts_at_ && consumed_ - *trailer_starts_at_ > options_.max_header_list_size) {
      fail(make_error_code(errc::response_too_large), progress::response_started,
           "a trailer section over " + std::to_string(options_.max_header_list_size) + " bytes");
      return;
    }
    if (parser_->is_header_done() && forward_.absolute_form && parser_->get().result_int() == 407) {
      // The proxy, not the origin, wants credentials: a proxy error like
      // CONNECT's 407, not the origin's response.
      fail(make_error_code(errc::proxy_auth_required), progress::response_started,
           std::string("the proxy answered 407 \"") + std::string(parser_->get().reason()) + "\"" +
               (forward_.authorization.empty() ? " (no credentials given)" : " (the credentials were refused)"));
      return;
    }
    if (parser_->is_header_done()) {
      if (current_->head_observed() && !current_->response_started())
        current_->note_response_head(static_cast<int>(parser_->get().result_int()),
                                     parser_->get()[http::field::content_encoding]);
      current_->mark_response_started(static_cast<int>(parser_->get().result_int()));
      current_->note_body_progress();  // bytes after the header: body or its framing
      if (!stream_body_out()) return;
    }
    if (parser_->is_done()) {
      finish_response(true);
      return;
    }
    read_more();
  }

  void write_request() {
    const Request& r = current_->request();
    const Url& url = current_->url();
    build_request_head(request_, r, url, forward_);
    bytes_written_ = 0;
    streamed_ = 0;
    body_finished_ = false;
    writing_ = true;
    if (r.body_source()) {
      // The header first; the body follows chunk by chunk as the source yields it.
      if (r.body_source_length()) request_.content_length(*r.body_source_length());
      else request_.chunked(true);
      serializer_.emplace(request_);
      http::async_write_header(*stream_, *serializer_,
                               [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                 self->on_body_part_written(ec, n);
                               });
      return;
    }
    if (!r.body().empty() || r.method() == "POST" || r.method() == "PUT" || r.method() == "PATCH")
      request_.content_length(r.body().size());
    serializer_.emplace(request_);
    http::async_write(*stream_, *serializer_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        self->writing_ = false;
                        self->on_written(ec, n);
                      });
  }

  // One part of a streamed request (the header, a chunk, the last chunk) is
  // out: pull the next from the body source, or finish.
  void on_body_part_written(boost::system::error_code ec, std::size_t n) {
    bytes_written_ += n;
    if (ec || !current_ || state() == ConnState::closed || body_finished_) {
      writing_ = false;
      body_finished_ = false;
      on_written(ec, bytes_written_);
      return;
    }
    const Request& r = current_->request();
    current_->mark_body_read();
    if (!current_->pull_body_chunk(chunk_)) {
      writing_ = false;
      // Half a body is on the wire: the connection goes with the request.
      fail(make_error_code(errc::callback_threw), progress::sent, current_->caller_threw().value_or(""));
      return;
    }
    streamed_ += chunk_.size();
    const auto declared = r.body_source_length();
    if (declared && (streamed_ > *declared || (chunk_.empty() && streamed_ != *declared))) {
      writing_ = false;
      // The message on the wire is malformed now: the connection cannot be reused.
      fail(make_error_code(errc::invalid_request), progress::sent,
           "the streamed body produced " + std::to_string(streamed_) + " bytes, not the declared " +
               std::to_string(*declared));
      return;
    }
    auto next = [self = shared_from_this()](boost::system::error_code e, std::size_t m) {
      self->on_body_part_written(e, m);
    };
    if (chunk_.empty()) {
      body_finished_ = true;
      if (declared) {
        asio::post(stream_->get_executor(), [next] { next({}, 0); });
        return;
      }
      asio::async_write(*stream_, http::make_chunk_last(), std::move(next));
      return;
    }
    if (declared) asio::async_write(*stream_, asio::buffer(chunk_), std::move(next));
    else asio::async_write(*stream_, http::make_chunk(asio::buffer(chunk_)), std::move(next));
  }

  void on_written(boost::system::error_code ec, std::size_t bytes) {
    // No request: it ended first (a response before the whole body was
    // sent; the connection is closed then) or was abandoned.
    if (!current_ || state() == ConnState::closed) return;
    if (ec) {
      fail(ec, bytes == 0 ? progress::not_sent : progress::sent, "writing the request");
      return;
    }
    request_written_ = true;
  }

  // With a body sink, hand over what the parser has accumulated so far.
  // False when the sink threw: the request failed, and the connection,
  // mid-response, with it.
  bool stream_body_out() {
    std::string& body = parser_->get().body();
    if (!current_->request().body_sink() || body.empty()) return true;
    if (!current_->deliver_body(body)) {
      fail(make_error_code(errc::callback_threw), progress::response_started, current_->caller_threw().value_or(""));
      return false;
    }
    body.clear();
    return true;
  }

  // An interim (1xx) response: skipped, and the final one parsed next. 101
  // switches protocols, which this client never asks for; and a server
  // sending interim responses without end is stalling, not informing.
  bool on_interim_response(unsigned status) {
    static constexpr int max_interim = 16;
    if (status == 101) {
      fail(make_error_code(errc::protocol_error), progress::sent,
           "101 Switching Protocols, and no upgrade was asked for");
      return false;
    }
    if (++interim_responses_ > max_interim) {
      fail(make_error_code(errc::protocol_error), progress::sent,
           "more than " + std::to_string(max_interim) + " interim (1xx) responses");
      return false;
    }
    new_parser();
    return true;
  }

  void on_read_failed(boost::system::error_code ec) {
    const bool header_done = parser_->is_header_done();
    if (net::is_certificate_rejection(ec)) {
      // TLS 1.3: the server ended the handshake on our certificate before
      // it read the request.
      fail(make_error_code(errc::client_certificate_rejected), progress::refused, ec.message());
    } else if (ec == http::error::body_limit || ec == http::error::header_limit) {
      fail(make_error_code(errc::response_too_large), progress::response_started, ec.message());
    } else if (header_done && ec.category() == make_error_code(http::error::partial_message).category() &&
               ec != http::error::partial_message) {
      // Beast's own verdict on the bytes (a bad chunk, a malformed trailer):
      // the server broke the framing, the connection did not just end.
      fail(make_error_code(errc::protocol_error), progress::response_started, ec.message());
    } else if (header_done) {
      fail(make_error_code(errc::truncated_response), progress::response_started, ec.message());
    } else if (is_connection_failure(ec) || ec == http::error::partial_message) {
      fail(make_error_code(errc::connection_lost_after_send), progress::sent, ec.message());
    } else {
      fail(make_error_code(errc::protocol_error), progress::sent, ec.message());
    }
  }

  void finish_response(bool can_continue) {
    auto& msg = parser_->get();
    Response response;
    response.status(static_cast<int>(msg.result_int()));
    response.reason(std::string(msg.reason()));
    for (const auto& f : msg) response.headers().add(std::string(f.name_string()), std::string(f.value()));
    response.body() = std::move(msg.body());
    response.protocol(Protocol::http1).connection(id(), reused_);
    // Reusable only once both directions are done. A server may answer
    // before reading the whole body (a 401 or 413): the rest of the body is
    // still being written, and no other request may share the stream with
    // it, so the connection goes (the write is cancelled by the close).
    const bool keep_alive = can_continue && msg.keep_alive() && buffer_.size() == 0 && !writing_;
    parser_.reset();
    if (!keep_alive || state() != ConnState::busy) {
      // The response goes back with the close, before it is reported. The
      // serializer stays until the cancelled write's handler has run.
      close_now(Error(errc::connection_closed,
                      describe() + (writing_ ? ": answered before the request body was sent"
                                             : ": closed after the response")),
                Result<Response>(std::move(response)));
      return;
    }
    auto ex = std::move(current_);
    serializer_.reset();
    request_written_ = false;
    transition(ConnState::ready);
    mark_idle();
    read_more();
    auto* o = owner();
    if (!o) return;
    o->on_attempt_done(ex, std::move(response));
    if (state() == ConnState::ready) o->on_ready(*this);
  }

  void fail(boost::system::error_code ec, progress reached, std::string what) {
    Error err(ec, describe() + ": " + what, reached);
    close_now(err, Result<Response>(err));
  }

  // Closes the connection: its request, if any, is handed back with
  // `outcome` when the caller already knows it, or with what the close
  // means for a request that got this far; then the close is reported.
  void close_now(const Error& why, std::optional<Result<Response>> outcome = std::nullopt) {
    if (state() == ConnState::closed) return;
    transition(ConnState::closed);
    stream_->close();
    std::vector<conn::InFlight> attempts;
    if (current_)
      // A write still running may already have put bytes on the wire: count
      // the request as sent then (never resent when not idempotent).
      attempts.push_back({std::move(current_), request_written_ || bytes_written_ > 0 || writing_,
                          parser_ && parser_->is_header_done(), {}, std::move(outcome)});
    close_attempts(why, std::move(attempts));
  }

  std::unique_ptr<net::Stream> stream_;
  const Options& options_;
  const net::ForwardProxy forward_;
  std::shared_ptr<Exchange> current_;
  RequestMessage request_;
  std::optional<http::request_serializer<http::span_body<const char>>> serializer_;
  std::optional<http::response_parser<growing_string_body>> parser_;
  beast::flat_buffer buffer_;
  bool request_written_ = false;
  bool writing_ = false;  // an async_write is running: the stream is not free
  // A streamed body (Request::body_source): the chunk being written, bytes
  // so far, and whether the last part is out.
  std::string chunk_;
  std::size_t bytes_written_ = 0;
  std::uint64_t streamed_ = 0;
  bool body_finished_ = false;
  // Response parsing bounds: interim responses so far, bytes the parser took,
  // where the trailer section began.
  int interim_responses_ = 0;
  std::size_t consumed_ = 0;
  std::optional<std::size_t> trailer_starts_at_;
  std::function<void(std::uint64_t, beast::string_view, boost::system::error_code&)> on_chunk_header_;
  bool reused_ = false;
};

}  // namespace

std::shared_ptr<conn::Connection> make_connection_via(conn::ConnectionOwner& owner, std::uint64_t id,
                                                      std::unique_ptr<net::Stream> stream, const Options& options,
                                                      net::ForwardProxy forward) {
  auto c = std::make_shared<H1Connection>(owner, id, std::move(stream), options, std::move(forward));
  c->start();
  return c;
}

std::shared_ptr<conn::Connection> make_connection(conn::ConnectionOwner& owner, std::uint64_t id,
                                                  std::unique_ptr<net::Stream> stream, const Options& options) {
  return make_connection_via(owner, id, std::move(stream), options, {});
}

}  // namespace rebound::h1
