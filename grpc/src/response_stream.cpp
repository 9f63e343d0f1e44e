// A streaming call's response: messages as they arrive, then the Status.
// See response_stream.hpp.
#include "response_stream.hpp"

namespace rebound::grpc::detail {

Status malformed(std::string why) {
  Status s;
  s.code = StatusCode::internal;
  s.message = std::move(why);
  return s;
}

void ResponseStream::on_chunk(std::string_view chunk) {
  std::lock_guard lock(mutex_);
  if (!decode_error_.empty() || stopped_by_caller_) return;
  bool caller_wants_more = true;
  const bool ok = reader_.feed(chunk, [&](std::string_view m) { return caller_wants_more = on_message_(m); });
  if (ok) return;
  if (!caller_wants_more) stopped_by_caller_ = true;
  else decode_error_ = reader_.error();
  cancel_.own.cancel();
}

Status ResponseStream::status(const Result<Response>& response) {
  std::lock_guard lock(mutex_);
  if (!decode_error_.empty()) return malformed("malformed response body: " + decode_error_);
  if (!response) {
    Status s = status_of(response.error());
    if (stopped_by_caller_) s.message = "the caller stopped reading: " + s.message;
    return s;
  }
  Status s = status_of(response->status(), response->headers(), response->trailers());
  if (s.ok() && !reader_.at_boundary()) return malformed("the response body ended inside a message");
  return s;
}

}  // namespace rebound::grpc::detail
