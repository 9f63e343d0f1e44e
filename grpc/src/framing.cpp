// gRPC's length-prefixed messages: see framing.hpp.
#include "rebound/grpc/framing.hpp"

#include <optional>

namespace rebound::grpc {

std::string encode_message(std::string_view message) {
  std::string out;
  out.reserve(frame_prefix_size + message.size());
  const auto n = static_cast<std::uint32_t>(message.size());
  out += '\0';  // not compressed
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  out.append(message);
  return out;
}

namespace {

// The length a whole prefix announces, or why it is unacceptable. Checked
// as soon as the prefix is complete, so an absurd length is refused before
// anything is buffered for it.
std::optional<std::size_t> announced_length(std::string_view prefix, std::size_t max, std::string& error) {
  const auto* p = reinterpret_cast<const unsigned char*>(prefix.data());
  if (p[0] != 0) {
    error = p[0] == 1 ? "a compressed message (no grpc-encoding was negotiated)" : "a bad compressed-flag byte";
    return std::nullopt;
  }
  const std::size_t length = (std::size_t{p[1]} << 24) | (std::size_t{p[2]} << 16) | (std::size_t{p[3]} << 8) | p[4];
  if (length > max) {
    error = "a message of " + std::to_string(length) + " bytes, above the limit of " + std::to_string(max);
    return std::nullopt;
  }
  return length;
}

}  // namespace

bool MessageReader::feed(std::string_view bytes, const std::function<bool(std::string_view)>& on_message) {
  if (!error_.empty()) return false;
  auto move_into_buffer = [&](std::size_t want) {
    const std::size_t take = std::min(want - buffer_.size(), bytes.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    return buffer_.size() == want;
  };
  for (;;) {
    // A message split across feeds is completed in buffer_ first; whole
    // messages are handed out straight from `bytes`, without a copy.
    if (!buffer_.empty()) {
      if (buffer_.size() < frame_prefix_size && !move_into_buffer(frame_prefix_size)) return true;
      const auto length = announced_length(buffer_, max_, error_);
      if (!length) return false;
      if (!move_into_buffer(frame_prefix_size + *length)) return true;
      const std::string whole = std::move(buffer_);
      buffer_.clear();
      if (!on_message(std::string_view(whole).substr(frame_prefix_size))) return false;
      continue;
    }
    if (bytes.empty()) return true;
    if (bytes.size() < frame_prefix_size) {
      buffer_.assign(bytes);
      return true;
    }
    const auto length = announced_length(bytes, max_, error_);
    if (!length) return false;
    if (bytes.size() < frame_prefix_size + *length) {
      buffer_.assign(bytes);
      return true;
    }
    const auto message = bytes.substr(frame_prefix_size, *length);
    bytes.remove_prefix(frame_prefix_size + *length);
    if (!on_message(message)) return false;
  }
}

}  // namespace rebound::grpc
