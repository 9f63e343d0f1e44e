// One caller request's hops: each hop's head, body and result pass through
// here before the caller sees them (see follower.hpp).
#include "follow/follower.hpp"

#include "follow/content_decoder.hpp"
#include "follow/redirect.hpp"
#include "inflight/caller_code.hpp"

#include <mutex>

namespace rebound::follow {
namespace {

// Thrown through the exchange's sink boundary when decoding must stop; the
// exchange turns it into callback_threw, and the hop's completion puts
// the real error (State::failure) back.
struct StopBody : std::exception {
  const char* what() const noexcept override { return "response body decoding stopped"; }
};

struct State : std::enable_shared_from_this<State> {
  RedirectPolicy policy;
  bool decode = false;          // Accept-Encoding is ours: decode what comes back
  bool own_sink = false;        // a sink of ours sits before the caller's (or the body)
  std::uint64_t max_body = 0;
  Request::BodySink caller_sink;
  inflight::Completion caller_done;
  LaunchHop launch;
  Clock::time_point deadline;
  bool cancellable = false;
  int hops = 0;
  std::vector<std::string> visited;  // "METHOD URL" of every hop
  std::string url;                   // the running hop's
  std::string method;
  std::optional<Request> current;    // the running hop's request (under a redirect policy), without our sink

  std::mutex cancel_mutex;
  std::function<void()> cancel_hop;  // guarded by cancel_mutex
  std::function<void(const Event&)> emit_hop;  // guarded by cancel_mutex: the running hop's shard
  bool cancelled = false;            // guarded by cancel_mutex

  // The running hop's answer (reset by on_head at each attempt's head).
  int status = 0;
  std::unique_ptr<ContentDecoder> decoder;
  std::uint64_t encoded_in = 0;
  bool gating = false;          // a 3xx body held from the caller's sink until we know we keep it
  std::string gated;
  bool reached_caller = false;  // the caller's sink has bytes of this answer
  std::string body;             // decoded body, for a caller without a sink
  std::uint64_t decoded = 0;
  std::optional<Error> failure;

  static constexpr std::size_t max_gated = 64 * 1024;

  void on_head(int s, std::string_view content_encoding) {
    status = s;
    decoder = decode && !content_encoding.empty() ? ContentDecoder::make(content_encoding) : nullptr;
    encoded_in = 0;
    gating = policy.enabled() && caller_sink && is_redirect(s);
    gated.clear();
    reached_caller = false;
    body.clear();
    decoded = 0;
    failure.reset();
  }

  // Decoded bytes: counted against max_response_body, then the caller's.
  bool out(std::string_view piece) {
    decoded += piece.size();
    if (decoded > max_body) {
      failure = Error(errc::response_too_large,
                      std::string(decoder ? "the decoded (" + std::string(decoder->name()) + ") body" : "the body") +
                          " passed max_response_body (" + std::to_string(max_body) + " bytes)");
      return false;
    }
    if (caller_sink) {
      reached_caller = true;
      caller_sink(piece);
    } else {
      body.append(piece);
    }
    return true;
  }

  // Encoded bytes of the answer, in order.
  void consume(std::string_view chunk) {
    if (!decoder) {
      if (!out(chunk)) throw StopBody();
      return;
    }
    encoded_in += chunk.size();
    std::string error;
    if (!decoder->write(chunk, [this](std::string_view d) { return out(d); }, error)) {
      if (!error.empty()) failure = Error(errc::content_decoding_failed, error);
      throw StopBody();
    }
  }

  void sink(std::string_view chunk) {
    if (gating) {
      if (gated.size() + chunk.size() <= max_gated) {
        gated.append(chunk);
        return;
      }
      gating = false;  // too large to hold back: the caller's answer after all
      std::string held = std::move(gated);
      consume(held);
    }
    consume(chunk);
  }

  void deliver(Result<Response>&& result) {
    std::visit([&](auto& f) { std::move(f)(std::move(result)); }, caller_done);
  }

  Error fail_with(const Error& e, const Error* from) const {
    std::string where = method + " " + url + (e.where().empty() ? "" : ": " + e.where());
    return Error(e.code(), std::move(where), from ? from->reached() : progress::response_started,
                 from ? from->attempts() : 0);
  }

  void launch_hop(Request&& request);
  void on_done(Result<Response>&& result, const std::function<void(const Event&)>& emit);
  // Ends the answer the caller keeps: held bytes, the decoder's end, headers.
  std::optional<Error> finalize(Response& r);
};

void State::launch_hop(Request&& request) {
  url = request.url();
  method = request.method();
  visited.push_back(method + " " + url);
  if (policy.enabled()) current = request;
  if (hops > 0 && request.body_rewind()) request.body_rewind()();  // a 307/308 resends it from its start
  if (own_sink) request.on_body([self = shared_from_this()](std::string_view chunk) { self->sink(chunk); });
  inflight::Completion done(std::in_place_index<0>, [self = shared_from_this()](Result<Response> r) {
    std::function<void(const Event&)> emit;
    {
      std::lock_guard lock(self->cancel_mutex);
      emit = std::move(self->emit_hop);
      self->cancel_hop = nullptr;
    }
    self->on_done(std::move(r), emit);
  });
  Hop hop = launch(std::move(request), std::move(done), deadline,
                   [self = shared_from_this()](int s, std::string_view ce) { self->on_head(s, ce); }, cancellable);
  std::unique_lock lock(cancel_mutex);
  emit_hop = std::move(hop.emit);
  if (!hop.cancel) return;
  cancel_hop = hop.cancel;
  if (cancelled) {
    lock.unlock();
    hop.cancel();
  }
}

std::optional<Error> State::finalize(Response& r) {
  if (gating) {
    gating = false;
    if (auto what = inflight::what_caller_code_threw([&] { consume(gated); })) {
      if (failure) return *failure;
      return Error(errc::callback_threw, "the request's body sink threw: " + *what);
    }
  }
  if (decoder) {
    std::string error;
    if (encoded_in > 0 && !decoder->finish(error)) return Error(errc::content_decoding_failed, error);
    r.headers().remove("content-encoding");
    r.headers().remove("content-length");
  }
  if (own_sink && !caller_sink) r.body() = std::move(body);
  return std::nullopt;
}

void State::on_done(Result<Response>&& result, const std::function<void(const Event&)>& emit) {
  if (!result) {
    // Our own stop went through the sink boundary as callback_threw.
    if (failure && result.error() == errc::callback_threw) {
      const Error from = result.error();
      result = fail_with(*failure, &from);
    }
    deliver(std::move(result));
    return;
  }
  Response& r = *result;
  if (policy.enabled() && is_redirect(r.status()) && !reached_caller && current) {
    auto here = parse_url(url);
    const bool streamed = (current->body_source() && !current->body_rewind()) || current->body_writer();
    RedirectInput in{*current, *here, r.status(), r.headers().get("location"), policy, hops, visited, !streamed};
    RedirectVerdict v = decide_redirect(in);
    switch (v.kind) {
      case RedirectVerdict::Kind::fail:
        deliver(fail_with(*v.error, nullptr));
        return;
      case RedirectVerdict::Kind::follow: {
        if (emit) emit(Event{EventKind::redirect, Clock::now(), here->origin(), r.connection_id(), r.protocol(), {}, v.why});
        if (Clock::now() >= deadline) {
          deliver(fail_with(Error(errc::deadline_exceeded, "before redirect " + std::to_string(hops + 1)), nullptr));
          return;
        }
        ++hops;
        launch_hop(std::move(*v.next));
        return;
      }
      case RedirectVerdict::Kind::deliver:
        if (emit && !v.why.empty())
          emit(Event{EventKind::redirect, Clock::now(), here->origin(), r.connection_id(), r.protocol(), {},
                     "not followed: " + v.why});
        break;
    }
  }
  if (auto e = finalize(r)) {
    deliver(fail_with(*e, nullptr));
    return;
  }
  r.url(url).redirects(hops);
  deliver(std::move(result));
}

}  // namespace

bool needs_follower(const Request& request, const Options& options) noexcept {
  return request.redirects().value_or(options.redirects).enabled() || request.decompress().value_or(options.decompress);
}

void start(Request&& request, inflight::Completion&& completion, boost::asio::cancellation_slot slot,
           Clock::time_point deadline, const Options& options, LaunchHop launch) {
  auto st = std::make_shared<State>();
  st->policy = request.redirects().value_or(options.redirects);
  st->decode = request.decompress().value_or(options.decompress) && !request.headers().contains("accept-encoding");
  if (st->decode) request.headers().add("accept-encoding", std::string(ContentDecoder::accept_encoding));
  st->caller_sink = request.body_sink();
  st->own_sink = st->decode || (st->policy.enabled() && st->caller_sink);
  st->max_body = options.max_response_body;
  st->caller_done = std::move(completion);
  st->launch = std::move(launch);
  st->deadline = deadline;
  st->cancellable = slot.is_connected();
  if (slot.is_connected()) {
    slot.assign([st](boost::asio::cancellation_type) {
      std::function<void()> cancel;
      {
        std::lock_guard lock(st->cancel_mutex);
        st->cancelled = true;
        cancel = st->cancel_hop;
      }
      if (cancel) cancel();
    });
  }
  st->launch_hop(std::move(request));
}

}  // namespace rebound::follow
