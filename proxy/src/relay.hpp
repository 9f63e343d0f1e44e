// One direction of a proxied connection: reads chunks from one socket,
// queues each with the time it may leave (read time + the delay then in
// force), and writes them to the other socket in order. Reading goes on
// while chunks wait, so a delay adds latency without cutting throughput to
// one chunk per delay; the queue is bounded so a slow sink pushes back on
// the source through TCP flow control.
//
// While the session is paused (blackhole) the relay starts nothing: no new
// read, no new write, and an end of stream or error seen by an operation
// already in flight is only recorded, to be acted on when forwarding
// resumes. The peers therefore see silence, never a close.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace rebound::proxy::detail {

class Session;

enum class Direction { client_to_server, server_to_client };

class Relay {
 public:
  Relay(Session& owner, Direction direction, boost::asio::ip::tcp::socket& from,
        boost::asio::ip::tcp::socket& to);

  /// Starts whatever is due next: a read when there is room, a write (or
  /// the wait before it) when a chunk is queued, the half-close once the
  /// source has ended and the queue is empty. Reports a failure to the
  /// session. Does nothing while the session is paused or closed.
  void pump();
  /// Cancels the delay timer; the session closes the sockets.
  void cancel();
  /// The source ended and everything was passed on, FIN included.
  bool finished() const { return write_ == WriteState::shut; }

 private:
  enum class ReadState {
    idle,     ///< no read in flight: paused, or the queue is full
    reading,  ///< async_read_some in flight
    ended,    ///< the source sent FIN
    failed,   ///< the source failed (RST, ...): the session must be reset
  };
  enum class WriteState {
    idle,     ///< nothing in flight
    waiting,  ///< the front chunk's delay is running
    writing,  ///< async_write in flight
    shut,     ///< FIN passed on to the sink: this direction is done
    failed,   ///< the sink failed: the session must be reset
  };

  struct Chunk {
    std::vector<char> bytes;
    std::size_t sent = 0;  ///< bytes of this chunk already written
    std::chrono::steady_clock::time_point due;
  };

  void start_read();
  void start_write();
  void on_read(const boost::system::error_code& ec, std::vector<char> buffer, std::size_t n);
  void on_written(const boost::system::error_code& ec, std::size_t n);

  Session& owner_;
  Direction direction_;
  boost::asio::ip::tcp::socket& from_;
  boost::asio::ip::tcp::socket& to_;
  boost::asio::steady_timer timer_;
  std::deque<Chunk> queue_;
  std::size_t queued_bytes_ = 0;
  ReadState read_ = ReadState::idle;
  WriteState write_ = WriteState::idle;
};

}  // namespace rebound::proxy::detail
