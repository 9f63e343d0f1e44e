// Channel: unary and server-streaming gRPC calls as blocking sends on
// rebound::Client, the response decoded into messages and a Status. See
// channel.hpp.
#include "rebound/grpc/channel.hpp"
#include "rebound/grpc/framing.hpp"

#include <mutex>
#include <utility>

namespace rebound::grpc {

namespace {

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Status malformed(std::string why) {
  Status s;
  s.code = StatusCode::internal;
  s.message = std::move(why);
  return s;
}

// The call's own Cancellation, cancelled too when the caller's is: the call
// must also be able to cancel itself (a malformed or unwanted message)
// without cancelling the caller's handle, which may cover other calls.
struct LinkedCancellation {
  Cancellation own;
  Cancellation::Registration link;
  explicit LinkedCancellation(const std::optional<Cancellation>& callers) {
    if (callers) link = callers->on_cancel([own = own]() mutable { own.cancel(); });
  }
};

}  // namespace

Channel::Channel(Client& client, std::string base_url)
    : client_(client), base_url_(without_trailing_slash(std::move(base_url))) {}

UnaryResult Channel::unary(std::string_view method, std::string_view request_message, const CallOptions& options) {
  UnaryResult result;
  Request request = make_request(base_url_, method, request_message, options);
  if (options.cancellation) request.cancellation(*options.cancellation);
  auto response = client_.send(std::move(request));
  if (!response) {
    result.status = status_of(response.error());
    return result;
  }
  result.headers = std::move(response->headers());
  result.trailers = std::move(response->trailers());
  result.status = status_of(response->status(), result.headers, result.trailers);
  if (!result.status.ok()) return result;

  MessageReader reader(options.max_message_size);
  int messages = 0;
  const bool read = reader.feed(response->body(), [&](std::string_view m) {
    if (++messages == 1) result.message.assign(m);
    return true;
  });
  if (!read) result.status = malformed("malformed response body: " + reader.error());
  else if (!reader.at_boundary()) result.status = malformed("the response body ended inside a message");
  else if (messages != 1)
    result.status = malformed("a unary call answered with " + std::to_string(messages) + " messages");
  if (!result.status.ok()) result.message.clear();
  return result;
}

Status Channel::server_streaming(std::string_view method, std::string_view request_message,
                                 std::function<bool(std::string_view)> on_message, const CallOptions& options) {
  LinkedCancellation cancel(options.cancellation);
  // Written on the I/O thread by the sink, read here after send() returns.
  std::mutex mutex;
  std::string decode_error;
  bool stopped_by_caller = false;
  MessageReader reader(options.max_message_size);

  Request request = make_request(base_url_, method, request_message, options);
  request.cancellation(cancel.own);
  request.on_body([&](std::string_view chunk) {
    std::lock_guard lock(mutex);
    if (!decode_error.empty() || stopped_by_caller) return;
    bool caller_wants_more = true;
    const bool ok = reader.feed(chunk, [&](std::string_view m) { return caller_wants_more = on_message(m); });
    if (ok) return;
    if (!caller_wants_more) stopped_by_caller = true;
    else decode_error = reader.error();
    cancel.own.cancel();
  });
  auto response = client_.send(std::move(request));

  std::lock_guard lock(mutex);
  if (!decode_error.empty()) return malformed("malformed response body: " + decode_error);
  if (!response) {
    Status s = status_of(response.error());
    if (stopped_by_caller) s.message = "the caller stopped reading: " + s.message;
    return s;
  }
  Status s = status_of(response->status(), response->headers(), response->trailers());
  if (s.ok() && !reader.at_boundary()) return malformed("the response body ended inside a message");
  return s;
}

}  // namespace rebound::grpc
