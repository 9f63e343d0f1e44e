// HTTP/2 frames as exact wire bytes, for RawServer scripts: builders for what
// the server sends and a reader for what the client sends. No validation on
// purpose - tests use these to send frames a correct server never would.
#pragma once

#include "support/raw_server.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct nghttp2_hd_inflater;

namespace rebound::testing::h2frames {

inline constexpr std::uint8_t DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4,
                              PUSH_PROMISE = 0x5, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8,
                              CONTINUATION = 0x9;

namespace flag {
inline constexpr std::uint8_t END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20;
}

namespace setting {
inline constexpr std::uint16_t HEADER_TABLE_SIZE = 0x1, ENABLE_PUSH = 0x2, MAX_CONCURRENT_STREAMS = 0x3,
                               INITIAL_WINDOW_SIZE = 0x4, MAX_FRAME_SIZE = 0x5, MAX_HEADER_LIST_SIZE = 0x6;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view client_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// 9-byte header (24-bit length, type, flags, 31-bit stream id) + payload.
std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id, std::string_view payload);

std::string settings(const std::vector<std::pair<std::uint16_t, std::uint32_t>>& params = {});
std::string settings_ack();
/// The server's connection preface is just its first SETTINGS frame.
inline std::string server_preface(const std::vector<std::pair<std::uint16_t, std::uint32_t>>& params = {}) {
  return settings(params);
}
std::string window_update(std::uint32_t stream_id, std::uint32_t increment);
std::string ping(bool ack, std::array<std::uint8_t, 8> data = {});
std::string rst_stream(std::uint32_t stream_id, std::uint32_t error_code);
std::string goaway(std::uint32_t last_stream_id, std::uint32_t error_code, std::string_view debug = "");
std::string data(std::uint32_t stream_id, std::string_view payload, bool end_stream);
/// One HEADERS frame with END_HEADERS and the block from hpack().
std::string headers(std::uint32_t stream_id, const Fields& fields, bool end_stream);

/// A self-contained HPACK block: the encoder's dynamic table is 0 bytes, so
/// blocks never refer to one another and frames may be built (or dropped, or
/// reordered) in any order. Split it by hand to test CONTINUATION.
std::string hpack(const Fields& fields);

/// Decodes the client's header blocks; keeps state across blocks, because the
/// client's encoder does use its dynamic table.
class HpackDecoder {
 public:
  HpackDecoder();
  ~HpackDecoder();
  HpackDecoder(const HpackDecoder&) = delete;
  HpackDecoder& operator=(const HpackDecoder&) = delete;
  /// Throws std::runtime_error on a malformed block.
  Fields decode(std::string_view block);

 private:
  nghttp2_hd_inflater* inflater_ = nullptr;
};

struct Frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream_id = 0;
  std::string payload;
  /// For HEADERS: the payload without padding and priority fields.
  std::string_view header_block() const;
};

/// Big-endian 32-bit value at `offset` (RST_STREAM/GOAWAY codes, WINDOW_UPDATE increments).
std::uint32_t u32_at(std::string_view bytes, std::size_t offset);

/// Reads the client's side of the connection frame by frame.
class FrameReader {
 public:
  explicit FrameReader(RawConnection& conn) : conn_(conn) {}
  /// Reads the 24-byte client preface; throws std::runtime_error if it is anything else.
  void read_preface(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// The next frame; throws std::runtime_error on EOF/timeout.
  Frame next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// The next frame of `type`, skipping any others; `timeout` bounds the whole search.
  Frame next_of_type(std::uint8_t type, std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  RawConnection& conn_;
};

}  // namespace rebound::testing::h2frames
