// One direction of a proxied connection: read, delay, write, half-close.
#include "relay.hpp"

#include <algorithm>

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "session.hpp"

namespace rebound::proxy::detail {
namespace {

constexpr std::size_t kChunkSize = 16 * 1024;
// Enough to keep loopback busy while chunks wait out a delay, small enough
// that a stalled sink soon stops the proxy reading from the source.
constexpr std::size_t kMaxQueuedBytes = 256 * 1024;

}  // namespace

Relay::Relay(Session& owner, Direction direction, boost::asio::ip::tcp::socket& from,
             boost::asio::ip::tcp::socket& to)
    : owner_(owner), direction_(direction), from_(from), to_(to), timer_(from.get_executor()) {}

void Relay::pump() {
  if (owner_.closed() || owner_.paused()) return;
  if (read_ == ReadState::failed || write_ == WriteState::failed) {
    owner_.relay_failed();
    return;
  }
  if (read_ == ReadState::idle && queued_bytes_ < kMaxQueuedBytes) start_read();
  if (write_ == WriteState::idle && !queue_.empty()) start_write();
  if (read_ == ReadState::ended && queue_.empty() && write_ == WriteState::idle) {
    // Pass the FIN on, so the sink sees the same orderly half-close.
    boost::system::error_code ec;
    to_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    write_ = WriteState::shut;
    owner_.relay_finished();
  }
}

void Relay::cancel() { timer_.cancel(); }

void Relay::start_read() {
  read_ = ReadState::reading;
  std::vector<char> buffer(kChunkSize);
  auto* data = buffer.data();
  from_.async_read_some(
      boost::asio::buffer(data, kChunkSize),
      [this, self = owner_.shared_from_this(), buffer = std::move(buffer)](const boost::system::error_code& ec,
                                                                          std::size_t n) mutable {
        on_read(ec, std::move(buffer), n);
      });
}

void Relay::on_read(const boost::system::error_code& ec, std::vector<char> buffer, std::size_t n) {
  if (owner_.closed()) return;  // our own close cancelled the read
  if (ec == boost::asio::error::eof) {
    read_ = ReadState::ended;
  } else if (ec) {
    read_ = ReadState::failed;
  } else {
    read_ = ReadState::idle;
    buffer.resize(n);
    queue_.push_back(Chunk{std::move(buffer), 0, std::chrono::steady_clock::now() + owner_.delay()});
    queued_bytes_ += n;
  }
  pump();
}

void Relay::start_write() {
  const Chunk& front = queue_.front();
  if (front.due > std::chrono::steady_clock::now()) {
    write_ = WriteState::waiting;
    timer_.expires_at(front.due);
    timer_.async_wait([this, self = owner_.shared_from_this()](const boost::system::error_code& ec) {
      if (ec || owner_.closed()) return;
      write_ = WriteState::idle;
      pump();
    });
    return;
  }
  // With a byte budget, the chunk that reaches it is cut to fit; a relay
  // finding the budget spent waits for the reset its partner is about to do.
  const std::size_t n = owner_.reserve_budget(front.bytes.size() - front.sent);
  if (n == 0) return;
  write_ = WriteState::writing;
  boost::asio::async_write(to_, boost::asio::buffer(front.bytes.data() + front.sent, n),
                           [this, self = owner_.shared_from_this()](const boost::system::error_code& ec,
                                                                    std::size_t written) {
                             on_written(ec, written);
                           });
}

void Relay::on_written(const boost::system::error_code& ec, std::size_t n) {
  if (owner_.closed()) return;
  if (ec) {
    write_ = WriteState::failed;
    pump();
    return;
  }
  write_ = WriteState::idle;
  Chunk& front = queue_.front();
  front.sent += n;
  if (front.sent == front.bytes.size()) queue_.pop_front();
  queued_bytes_ -= n;
  owner_.forwarded(direction_, n);  // may reset the session (byte budget spent)
  pump();
}

}  // namespace rebound::proxy::detail
