// Bidirectional-streaming calls: a BodyWriter for the request messages, a
// ResponseStream for the answers, and the Status handed to whoever waits.
// See bidi_call.hpp.
#include "rebound/grpc/bidi_call.hpp"
#include "rebound/grpc/channel.hpp"
#include "rebound/grpc/framing.hpp"
#include "response_stream.hpp"

#include <condition_variable>

namespace rebound::grpc {

struct BidiCall::State {
  State(const CallOptions& options, std::function<bool(std::string_view)> on_message)
      : writer(options.write_buffer), response(options.max_message_size, std::move(on_message), options.cancellation) {}

  BodyWriter writer;
  detail::ResponseStream response;
  std::function<void(const Status&)> on_done;
  mutable std::mutex mutex;
  mutable std::condition_variable ended;
  std::optional<Status> status;
};

BidiCall& BidiCall::operator=(BidiCall&& other) noexcept {
  if (this != &other) {
    BidiCall gone(std::move(*this));  // ends the call this one held
    state_ = std::move(other.state_);
  }
  return *this;
}

BidiCall::~BidiCall() {
  if (!state_) return;
  // on_message may reference the caller's locals: nothing of the call may
  // run once its handle is gone.
  cancel();
  wait();
}

bool BidiCall::write(std::string_view message) {
  const std::string framed = encode_message(message);
  for (;;) {
    switch (state_->writer.write(framed)) {
      case BodyWriter::WriteResult::written: return true;
      case BodyWriter::WriteResult::closed: return false;
      case BodyWriter::WriteResult::full: state_->writer.wait_writable(std::chrono::seconds(1)); break;
    }
  }
}

BodyWriter::WriteResult BidiCall::try_write(std::string_view message) {
  return state_->writer.write(encode_message(message));
}

void BidiCall::finish() { state_->writer.finish(); }

void BidiCall::cancel() {
  // A const handle: cancelling the call's own Cancellation, not the caller's.
  Cancellation own = state_->response.cancellation();
  own.cancel();
}

bool BidiCall::done() const {
  std::lock_guard lock(state_->mutex);
  return state_->status.has_value();
}

Status BidiCall::wait() const {
  std::unique_lock lock(state_->mutex);
  state_->ended.wait(lock, [&] { return state_->status.has_value(); });
  return *state_->status;
}

std::optional<Status> BidiCall::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  state_->ended.wait_for(lock, timeout, [&] { return state_->status.has_value(); });
  return state_->status;
}

BidiCall Channel::bidi_streaming(std::string_view method, std::function<bool(std::string_view)> on_message,
                                 const CallOptions& options, std::function<void(const Status&)> on_done) {
  auto state = std::make_shared<BidiCall::State>(options, std::move(on_message));
  state->on_done = std::move(on_done);
  Request request = make_request_head(base_url_, method, options);
  request.body_writer(state->writer);
  request.cancellation(state->response.cancellation());
  request.on_body([state](std::string_view chunk) { state->response.on_chunk(chunk); });
  send_async(std::move(request), [state](Result<Response> response) {
    Status status = state->response.status(response);
    {
      std::lock_guard lock(state->mutex);
      state->status = status;
    }
    state->ended.notify_all();
    if (state->on_done) state->on_done(status);
  });
  return BidiCall(std::move(state));
}

}  // namespace rebound::grpc
