// A bidirectional-streaming gRPC call in progress (Channel::bidi_streaming):
// request messages written while response messages arrive, both in order,
// over one HTTP/2 stream whose request body is a rebound::BodyWriter.
//
//     auto call = channel.bidi_streaming("/etcdserverpb.Lease/LeaseKeepAlive",
//                                        [&](std::string_view m) { ...; return true; }, {.timeout = 1h});
//     call.write(request.SerializeAsString());    // any thread, any time
//     ...
//     call.finish();                               // half-close: END_STREAM
//     rebound::grpc::Status s = call.wait();       // grpc-status from the trailers
//
// Ends: when the server sends its status (trailers), when the call's
// deadline passes (DEADLINE_EXCEEDED), when cancel() or the caller's
// Cancellation cancels it (RST_STREAM CANCEL; CANCELLED), when on_message
// returns false (CANCELLED, "the caller stopped reading"), or when the
// transport fails (UNAVAILABLE with the transport's error). After the end,
// write() returns false. A server that sends its status while we still
// write ends the call with that status (our half of the stream is reset
// with NO_ERROR).
//
// Resent: only while the server provably did not process the call
// (refused stream, above a GOAWAY, never sent), and only while the bytes
// written so far fit the writer's replay copy (CallOptions::write_buffer):
// the transport replays them on the new stream. Once the server has
// answered, or may have processed the call, it is never resent.
//
// Flow control: write() blocks while CallOptions::write_buffer bytes wait
// unsent (the server is not reading, or its flow-control window is
// closed); try_write() never blocks.
//
// Thread safety: write, try_write, finish, cancel, done and wait may be
// called from any thread at once. on_message runs on a rebound I/O thread:
// keep it quick; it must not call write() (which may block) - use
// try_write() there - nor wait(). Do not destroy a BidiCall on a rebound I/O
// thread: the destructor cancels a running call and waits for its end.
#pragma once

#include <rebound/body_writer.hpp>
#include <rebound/grpc/status.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

namespace rebound::grpc {

class BidiCall {
 public:
  BidiCall(BidiCall&&) noexcept = default;
  BidiCall& operator=(BidiCall&&) noexcept;
  /// Cancels the call if it still runs and waits until it has ended.
  ~BidiCall();

  /// Sends one message (framed); blocks while the write buffer is full.
  /// False when the call has ended or finish() was called (nothing sent).
  bool write(std::string_view message);
  /// Sends one message without blocking: BodyWriter::WriteResult::full
  /// when the write buffer is full (nothing sent; try again later).
  BodyWriter::WriteResult try_write(std::string_view message);
  /// Half-closes: no more messages; END_STREAM follows those written.
  void finish();
  /// Cancels the call (RST_STREAM CANCEL); its Status becomes CANCELLED.
  void cancel();
  /// True once the call has ended.
  bool done() const;
  /// Blocks until the call ends; its Status (also after it ended).
  Status wait() const;
  /// Waits up to `timeout`; the Status if the call ended by then.
  std::optional<Status> wait_for(std::chrono::milliseconds timeout) const;

  struct State;  ///< shared with the call's callbacks

 private:
  friend class Channel;
  explicit BidiCall(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace rebound::grpc
