// gRPC's message framing on an HTTP/2 body: each message is a 1-byte
// compressed flag, a 4-byte big-endian length, then the message bytes.
// encode_message() writes one; MessageReader takes the body in whatever
// pieces the network delivers and hands back whole messages.
//
// Errors: MessageReader reports a malformed body (a compressed message -
// rebound never asks for compression - or one above its size limit) through
// error(); after an error it accepts nothing more.
// Thread safety: MessageReader is a plain object, one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace rebound::grpc {

/// Bytes of the prefix before each message.
inline constexpr std::size_t frame_prefix_size = 5;

/// One uncompressed message with its prefix.
std::string encode_message(std::string_view message);

class MessageReader {
 public:
  /// Messages above `max_message_size` bytes are an error (gRPC's default
  /// receive limit is 4 MiB).
  explicit MessageReader(std::size_t max_message_size = 4u << 20) : max_(max_message_size) {}

  /// Consumes `bytes`, calling `on_message` for each message it completes
  /// (the view is valid during the call). `on_message` returns false to
  /// stop: the rest is ignored and feed() returns false. Also false on a
  /// malformed body (error() says why).
  bool feed(std::string_view bytes, const std::function<bool(std::string_view message)>& on_message);

  /// Whether the body ended between messages (no partial message left).
  bool at_boundary() const noexcept { return buffer_.empty(); }
  /// Why feed() failed on its own ("" when it did not).
  const std::string& error() const noexcept { return error_; }

 private:
  std::size_t max_;
  std::string buffer_;  // an incomplete prefix or message carried to the next feed
  std::string error_;
};

}  // namespace rebound::grpc
