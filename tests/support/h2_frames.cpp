// HTTP/2 frame encoding and decoding for tests; HPACK is nghttp2's.
#include "support/h2_frames.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <stdexcept>

namespace rebound::testing::h2frames {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string u32s(std::initializer_list<std::uint32_t> values) {
  std::string out;
  for (auto v : values) put_u32(out, v);
  return out;
}

}  // namespace

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id, std::string_view payload) {
  std::string out;
  out.reserve(9 + payload.size());
  const auto len = static_cast<std::uint32_t>(payload.size());
  for (int shift = 16; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  put_u32(out, stream_id & 0x7fffffff);
  out.append(payload);
  return out;
}

std::string settings(const std::vector<std::pair<std::uint16_t, std::uint32_t>>& params) {
  std::string payload;
  for (auto [id, value] : params) {
    payload.push_back(static_cast<char>(id >> 8));
    payload.push_back(static_cast<char>(id & 0xff));
    put_u32(payload, value);
  }
  return frame(SETTINGS, 0, 0, payload);
}

std::string settings_ack() { return frame(SETTINGS, flag::ACK, 0, ""); }

std::string window_update(std::uint32_t stream_id, std::uint32_t increment) {
  return frame(WINDOW_UPDATE, 0, stream_id, u32s({increment}));
}

std::string ping(bool ack, std::array<std::uint8_t, 8> data) {
  return frame(PING, ack ? flag::ACK : 0, 0, std::string(data.begin(), data.end()));
}

std::string rst_stream(std::uint32_t stream_id, std::uint32_t error_code) {
  return frame(RST_STREAM, 0, stream_id, u32s({error_code}));
}

std::string goaway(std::uint32_t last_stream_id, std::uint32_t error_code, std::string_view debug) {
  return frame(GOAWAY, 0, 0, u32s({last_stream_id, error_code}).append(debug));
}

std::string data(std::uint32_t stream_id, std::string_view payload, bool end_stream) {
  return frame(DATA, end_stream ? flag::END_STREAM : 0, stream_id, payload);
}

std::string headers(std::uint32_t stream_id, const Fields& fields, bool end_stream) {
  return frame(HEADERS, flag::END_HEADERS | (end_stream ? flag::END_STREAM : 0), stream_id, hpack(fields));
}

std::string hpack(const Fields& fields) {
  nghttp2_hd_deflater* deflater = nullptr;
  if (nghttp2_hd_deflate_new(&deflater, 0) != 0) throw std::runtime_error("nghttp2_hd_deflate_new failed");
  std::vector<nghttp2_nv> nva;
  for (const auto& [name, value] : fields)
    nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  std::string block(nghttp2_hd_deflate_bound(deflater, nva.data(), nva.size()), '\0');
  const auto n = nghttp2_hd_deflate_hd(deflater, reinterpret_cast<std::uint8_t*>(block.data()), block.size(),
                                       nva.data(), nva.size());
  nghttp2_hd_deflate_del(deflater);
  if (n < 0) throw std::runtime_error(std::string("nghttp2_hd_deflate_hd: ") + nghttp2_strerror(int(n)));
  block.resize(static_cast<std::size_t>(n));
  return block;
}

HpackDecoder::HpackDecoder() {
  if (nghttp2_hd_inflate_new(&inflater_) != 0) throw std::runtime_error("nghttp2_hd_inflate_new failed");
}

HpackDecoder::~HpackDecoder() { nghttp2_hd_inflate_del(inflater_); }

Fields HpackDecoder::decode(std::string_view block) {
  Fields fields;
  auto in = reinterpret_cast<const std::uint8_t*>(block.data());
  std::size_t left = block.size();
  for (;;) {
    nghttp2_nv nv;
    int out_flags = 0;
    const auto used = nghttp2_hd_inflate_hd2(inflater_, &nv, &out_flags, in, left, /*in_final=*/1);
    if (used < 0) throw std::runtime_error(std::string("HPACK decode: ") + nghttp2_strerror(int(used)));
    in += used;
    left -= static_cast<std::size_t>(used);
    if (out_flags & NGHTTP2_HD_INFLATE_EMIT)
      fields.emplace_back(std::string(reinterpret_cast<char*>(nv.name), nv.namelen),
                          std::string(reinterpret_cast<char*>(nv.value), nv.valuelen));
    if (out_flags & NGHTTP2_HD_INFLATE_FINAL) break;
    if (used == 0 && left == 0) throw std::runtime_error("HPACK decode: truncated block");
  }
  nghttp2_hd_inflate_end_headers(inflater_);
  return fields;
}

std::string_view Frame::header_block() const {
  std::string_view block = payload;
  std::size_t pad = 0;
  if ((flags & flag::PADDED) && !block.empty()) {
    pad = static_cast<std::uint8_t>(block[0]);
    block.remove_prefix(1);
  }
  if (type == HEADERS && (flags & flag::PRIORITY))
    block.remove_prefix(std::min<std::size_t>(5, block.size()));
  block.remove_suffix(std::min(pad, block.size()));
  return block;
}

std::uint32_t u32_at(std::string_view bytes, std::size_t offset) {
  if (offset + 4 > bytes.size()) throw std::out_of_range("u32_at past the end");
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[offset + i]);
  return v;
}

void FrameReader::read_preface(std::chrono::milliseconds timeout) {
  if (conn_.read_exactly(client_preface.size(), timeout) != client_preface)
    throw std::runtime_error("the client's first bytes are not the HTTP/2 preface");
}

Frame FrameReader::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string head = conn_.read_exactly(9, timeout);
  Frame f;
  const std::uint32_t length = u32_at(head, 0) >> 8;  // the 24-bit length, then the type byte
  f.type = static_cast<std::uint8_t>(head[3]);
  f.flags = static_cast<std::uint8_t>(head[4]);
  f.stream_id = u32_at(head, 5) & 0x7fffffff;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  f.payload = conn_.read_exactly(length, std::max(left, std::chrono::milliseconds(0)));
  return f;
}

Frame FrameReader::next_of_type(std::uint8_t type, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    Frame f = next(std::max(left, std::chrono::milliseconds(0)));
    if (f.type == type) return f;
  }
}

}  // namespace rebound::testing::h2frames
