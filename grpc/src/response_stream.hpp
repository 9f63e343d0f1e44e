// The response side of a streaming gRPC call: the body arrives in pieces on
// a rebound I/O thread (the request's body sink), is cut into messages for
// the caller's on_message, and the final Status is made from the finished
// response - or from what went wrong first: a malformed body, or the
// caller's on_message asking to stop (both cancel the call). Shared by the
// server-streaming and bidirectional calls.
//
// Thread safety: on_chunk runs on the I/O thread, status() on the caller's
// after the call completed; a mutex orders them.
#pragma once

#include "rebound/grpc/framing.hpp"
#include "rebound/grpc/status.hpp"

#include <rebound/client.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::grpc::detail {

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

class ResponseStream {
 public:
  ResponseStream(std::size_t max_message_size, std::function<bool(std::string_view)> on_message,
                 const std::optional<Cancellation>& callers)
      : reader_(max_message_size), on_message_(std::move(on_message)), cancel_(callers) {}

  /// The Cancellation the call's request carries.
  const Cancellation& cancellation() const { return cancel_.own; }
  /// A piece of the response body (the request's body sink).
  void on_chunk(std::string_view chunk);
  /// The call's Status once its request completed with `response`.
  Status status(const Result<Response>& response);

 private:
  std::mutex mutex_;
  MessageReader reader_;
  std::function<bool(std::string_view)> on_message_;
  LinkedCancellation cancel_;
  std::string decode_error_;
  bool stopped_by_caller_ = false;
};

/// A Status rebound made: INTERNAL with `why`.
Status malformed(std::string why);

}  // namespace rebound::grpc::detail
