// ResponseStream: a response body produced over time, for answers that do not
// fit in one string - a Kubernetes watch, a log follow. The route's handler
// returns a ServerResponse whose `stream` is set; the server sends the status
// and headers at once, then whatever the producer write()s, as it comes
// (HTTP/1.1: chunked transfer encoding; HTTP/2: DATA frames under flow
// control), until the producer close()s it (last chunk / END_STREAM) or the
// server ends it: the client went away or reset the stream, the server was
// killed (the connection is reset), or stop() drained it (what was written is
// sent, then the body ends cleanly, as an API server ends its watches when it
// shuts down).
//
// Thread safety: every member may be called from any thread. The producer
// learns that the stream ended from write()'s result, from ended(), or from
// the on_end callback, which runs exactly once, on whichever thread ended the
// stream (a server I/O thread, or the producer's own close()); it must not
// block.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace rebound::server {

class ResponseStream {
 public:
  /// How far the stream has got. Once not `open`, it never is again.
  enum class State {
    open,           ///< the producer may write
    closed,         ///< the producer closed it: what was written is sent, then the body ends cleanly
    drained,        ///< the server ended it cleanly (stop()): like closed, but not the producer's doing
    cancelled,      ///< the client went away, reset the stream, or the server was killed: nothing more is sent
  };

  /// Bytes the server holds for a client that does not read (flow control)
  /// before it cancels the stream, like an API server dropping a slow watcher.
  static constexpr std::size_t kDefaultMaxPending = std::size_t{16} << 20;

  explicit ResponseStream(std::size_t max_pending = kDefaultMaxPending) : max_pending_(max_pending) {}
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // --- the producer's side ---
  /// Queues `bytes` to be sent. False (and nothing queued) once the stream
  /// is no longer open; also cancels the stream (and returns false) when more
  /// than max_pending bytes would wait for a client that does not read.
  bool write(std::string_view bytes);
  /// Ends the body cleanly after what was written. No-op once ended.
  void close();
  /// Ends the stream at once, as if the client had gone (nothing more is sent).
  void cancel();
  State state() const;
  bool ended() const { return state() != State::open; }
  /// Runs `callback` once when the stream ends (at once if it already has).
  void on_end(std::function<void()> callback);

  // --- the server's side (sessions) ---
  /// What a session takes from the stream.
  struct Chunk {
    std::string data;   ///< bytes to send now (may be empty)
    bool finished = false;  ///< the body ends after `data` (closed or drained)
    bool cancelled = false; ///< send nothing more; end the exchange abruptly
  };
  /// Registers the session's wake-up: called (from the writer's thread,
  /// outside any lock) when data or the end becomes available after a take()
  /// found none. Call once, before the first take().
  void attach(std::function<void()> wake);
  /// Takes up to `max` queued bytes (and whether the body ends after them).
  Chunk take(std::size_t max = static_cast<std::size_t>(-1));
  /// The server ends the stream cleanly (stop()): sent what was written, then done.
  void drain();

 private:
  // Moves to `next` when open; returns the end callback to run (outside the lock).
  std::function<void()> end_locked(State next);
  void notify(std::function<void()> wake, std::function<void()> ended);

  const std::size_t max_pending_;
  mutable std::mutex mutex_;
  State state_ = State::open;
  std::string pending_;
  bool waiting_ = false;  // the session found nothing at its last take(): wake it on news
  std::function<void()> wake_;
  std::function<void()> on_end_;
};

}  // namespace rebound::server
