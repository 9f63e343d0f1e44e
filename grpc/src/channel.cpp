// Channel: unary and server-streaming gRPC calls as blocking sends on
// rebound::Client, the response decoded into messages and a Status. See
// channel.hpp.
#include "rebound/grpc/channel.hpp"
#include "rebound/grpc/framing.hpp"
#include "response_stream.hpp"

#include <utility>

namespace rebound::grpc {

namespace {

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Channel::Channel(Client& client, std::string base_url)
    : client_(client), base_url_(without_trailing_slash(std::move(base_url))) {}

Channel::Channel(EndpointGroup& group) : client_(group.client()), group_(&group) {}

Result<Response> Channel::send(Request request, std::string* endpoint) {
  if (!group_) return client_.send(std::move(request));
  auto served = group_->send(std::move(request));
  if (!served) return served.error();
  if (endpoint) *endpoint = served->endpoint;
  return std::move(served->response);
}

void Channel::send_async(Request request, std::function<void(Result<Response>)> done) {
  if (!group_) return client_.send_async(std::move(request), std::move(done));
  group_->send_async(std::move(request), [done = std::move(done)](Result<Served> served) {
    if (!served) return done(served.error());
    done(std::move(served->response));
  });
}

UnaryResult Channel::unary(std::string_view method, std::string_view request_message, const CallOptions& options) {
  UnaryResult result;
  Request request = make_request(base_url_, method, request_message, options);
  if (options.cancellation) request.cancellation(*options.cancellation);
  auto response = send(std::move(request), &result.endpoint);
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
  if (!read) result.status = detail::malformed("malformed response body: " + reader.error());
  else if (!reader.at_boundary()) result.status = detail::malformed("the response body ended inside a message");
  else if (messages != 1)
    result.status = detail::malformed("a unary call answered with " + std::to_string(messages) + " messages");
  if (!result.status.ok()) result.message.clear();
  return result;
}

Status Channel::server_streaming(std::string_view method, std::string_view request_message,
                                 std::function<bool(std::string_view)> on_message, const CallOptions& options) {
  detail::ResponseStream stream(options.max_message_size, std::move(on_message), options.cancellation);
  Request request = make_request(base_url_, method, request_message, options);
  request.cancellation(stream.cancellation());
  request.on_body([&stream](std::string_view chunk) { stream.on_chunk(chunk); });
  return stream.status(send(std::move(request)));
}

}  // namespace rebound::grpc
