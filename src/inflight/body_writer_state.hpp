// What a BodyWriter shares with the transport: the bytes written and not yet
// sent, the replay copy of those sent while a resend is still possible, and
// the wake-up that resumes the HTTP/2 stream when bytes arrive after it
// found none. The caller's side (write, finish, wait) runs on any thread;
// the transport's (claim, start_attempt, pull, response_started, end) on the
// connection's I/O thread. One mutex guards it all: every operation is a
// few copies, and the wake-up runs outside it.
#pragma once

#include <rebound/body_writer.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

namespace rebound::detail {

struct BodyWriterState {
  explicit BodyWriterState(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}

  // --- the caller's side (BodyWriter) ---
  BodyWriter::WriteResult write(std::string_view bytes);
  bool finish();
  bool wait_writable(std::chrono::milliseconds timeout) const;
  bool closed() const;
  bool ended() const;
  std::size_t unsent() const;

  // --- the transport's side ---
  /// The first request to carry this writer takes it; false for any later one.
  bool claim();
  /// An attempt starts sending: from the first byte again (the replay copy
  /// is whole while replayable()), and `wake` runs (on whichever thread
  /// writes or finishes) when bytes or the end arrive after a pull found
  /// none. `wake` must only post to the connection's I/O thread.
  void start_attempt(std::function<void()> wake);
  struct Pulled {
    std::size_t bytes = 0;  ///< copied into the buffer
    bool end = false;       ///< the body is complete after these bytes (END_STREAM)
    bool deferred = false;  ///< nothing to send now: wait for the wake-up
  };
  /// Up to `length` unsent bytes into `buf`.
  Pulled pull(std::uint8_t* buf, std::size_t length);
  /// The response started: nothing will be resent, the replay copy goes.
  void response_started();
  /// Whether an attempt could start again from the first byte.
  bool replayable() const;
  /// The request completed: nothing more is taken or sent; waiters return.
  void end();

 private:
  void drop_sent_locked();

  const std::size_t limit_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string data_;            // [0, cursor_): sent (kept while replayable_); [cursor_, end): unsent
  std::size_t cursor_ = 0;
  std::size_t sent_ = 0;        // bytes this attempt has pulled
  bool replayable_ = true;
  bool finished_ = false;       // finish() was called
  bool ended_ = false;          // the request completed
  bool claimed_ = false;
  bool waiting_for_data_ = false;  // a pull found nothing: the next write wakes the stream
  std::function<void()> wake_;
};

}  // namespace rebound::detail
