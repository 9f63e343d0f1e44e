// Streaming decoders for a response's Content-Encoding: gzip (and
// x-gzip, deflate) through zlib, br through libbrotli, zstd through libzstd.
// Each takes the encoded bytes as they arrive and hands decoded pieces to a
// callback in bounded slices (64 KiB), so nothing buffers the whole body and
// a caller can stop a decompression bomb after the first slice past its
// limit.
//
// Errors: write() and finish() return false with `error` set to words
// naming the encoding and what went wrong (corrupt data, bytes after the
// end, truncated). Thread safety: one decoder per response, one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rebound::follow {

class ContentDecoder {
 public:
  /// Receives decoded bytes; returns false to stop decoding at once (the
  /// caller's limit was passed), which makes write() return false with
  /// `error` left empty.
  using Out = std::function<bool(std::string_view decoded)>;

  /// The decoder for a Content-Encoding value (case-insensitive, one
  /// coding; "identity" and "" need none), or null when rebound has no
  /// decoder for it.
  static std::unique_ptr<ContentDecoder> make(std::string_view content_encoding);
  /// What Accept-Encoding offers: the codings make() knows.
  static constexpr std::string_view accept_encoding = "gzip, br, zstd";

  virtual ~ContentDecoder() = default;
  /// Decodes `in`, handing what comes out to `out`.
  virtual bool write(std::string_view in, const Out& out, std::string& error) = 0;
  /// The body ended: false when the encoded stream had not ended (truncated).
  virtual bool finish(std::string& error) = 0;
  /// "gzip", "br", "zstd", "deflate".
  virtual const char* name() const noexcept = 0;
};

}  // namespace rebound::follow
