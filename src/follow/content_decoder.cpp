// The gzip/deflate, br and zstd decoders behind ContentDecoder: each loop
// feeds the library what arrived and drains its output in 64 KiB slices.
#include "follow/content_decoder.hpp"

#include <rebound/headers.hpp>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <array>

namespace rebound::follow {
namespace {

constexpr std::size_t slice = 64 * 1024;

class ZlibDecoder final : public ContentDecoder {
 public:
  // 15 + 32: zlib or gzip header, detected (deflate is zlib-wrapped by the RFC;
  // raw deflate, which some servers send instead, is tried on the first failure).
  explicit ZlibDecoder(bool gzip) : gzip_(gzip) { inflateInit2(&z_, 15 + 32); }
  ~ZlibDecoder() override { inflateEnd(&z_); }

  bool write(std::string_view in, const Out& out, std::string& error) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    while (z_.avail_in > 0) {
      if (ended_) {
        error = std::string(name()) + ": bytes after the end of the compressed stream";
        return false;
      }
      z_.next_out = reinterpret_cast<Bytef*>(buf_.data());
      z_.avail_out = static_cast<uInt>(buf_.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_DATA_ERROR && !gzip_ && !tried_raw_ && z_.total_out == 0) {
        // "deflate" sent as raw deflate: start over without the zlib header.
        tried_raw_ = true;
        inflateEnd(&z_);
        z_ = {};
        inflateInit2(&z_, -15);
        return write(in, out, error);
      }
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        error = std::string(name()) + ": " + (z_.msg ? z_.msg : "corrupt data");
        return false;
      }
      const std::size_t n = buf_.size() - z_.avail_out;
      if (n > 0 && !out({buf_.data(), n})) return false;
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc == Z_BUF_ERROR && n == 0) break;  // needs more input
    }
    return true;
  }
  bool finish(std::string& error) override {
    if (ended_) return true;
    error = std::string(name()) + ": the compressed stream is truncated";
    return false;
  }
  const char* name() const noexcept override { return gzip_ ? "gzip" : "deflate"; }

 private:
  z_stream z_{};
  bool gzip_;
  bool tried_raw_ = false;
  bool ended_ = false;
  std::array<char, slice> buf_;
};

class BrotliDecoder final : public ContentDecoder {
 public:
  BrotliDecoder() : s_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliDecoder() override { BrotliDecoderDestroyInstance(s_); }

  bool write(std::string_view in, const Out& out, std::string& error) override {
    auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t avail_in = in.size();
    for (;;) {
      if (ended_ && avail_in > 0) {
        error = "br: bytes after the end of the compressed stream";
        return false;
      }
      auto next_out = reinterpret_cast<std::uint8_t*>(buf_.data());
      std::size_t avail_out = buf_.size();
      const auto rc = BrotliDecoderDecompressStream(s_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      if (rc == BROTLI_DECODER_RESULT_ERROR) {
        error = std::string("br: ") + BrotliDecoderErrorString(BrotliDecoderGetErrorCode(s_));
        return false;
      }
      const std::size_t n = buf_.size() - avail_out;
      if (n > 0 && !out({buf_.data(), n})) return false;
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) ended_ = true;
      if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) continue;
      if (avail_in == 0 || ended_) {
        if (ended_ && avail_in > 0) continue;  // reported above
        return true;
      }
    }
  }
  bool finish(std::string& error) override {
    if (ended_) return true;
    error = "br: the compressed stream is truncated";
    return false;
  }
  const char* name() const noexcept override { return "br"; }

 private:
  BrotliDecoderState* s_;
  bool ended_ = false;
  std::array<char, slice> buf_;
};

class ZstdDecoder final : public ContentDecoder {
 public:
  ZstdDecoder() : s_(ZSTD_createDStream()) {
    ZSTD_initDStream(s_);
    // RFC 8878 section 3: a window over 8 MiB may be refused; cap memory.
    ZSTD_DCtx_setParameter(s_, ZSTD_d_windowLogMax, 23);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(s_); }

  bool write(std::string_view in, const Out& out, std::string& error) override {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    while (input.pos < input.size || more_out_) {
      ZSTD_outBuffer output{buf_.data(), buf_.size(), 0};
      const std::size_t rc = ZSTD_decompressStream(s_, &output, &input);
      if (ZSTD_isError(rc)) {
        error = std::string("zstd: ") + ZSTD_getErrorName(rc);
        return false;
      }
      frame_done_ = rc == 0;
      more_out_ = output.pos == output.size;  // the output may hold more
      if (output.pos > 0 && !out({buf_.data(), output.pos})) return false;
      if (output.pos == 0 && input.pos == input.size) break;
    }
    return true;
  }
  bool finish(std::string& error) override {
    if (frame_done_) return true;
    error = "zstd: the compressed stream is truncated";
    return false;
  }
  const char* name() const noexcept override { return "zstd"; }

 private:
  ZSTD_DStream* s_;
  bool frame_done_ = false;
  bool more_out_ = false;
  std::array<char, slice> buf_;
};

}  // namespace

std::unique_ptr<ContentDecoder> ContentDecoder::make(std::string_view coding) {
  while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
  while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
  if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) return std::make_unique<ZlibDecoder>(true);
  if (iequals(coding, "deflate")) return std::make_unique<ZlibDecoder>(false);
  if (iequals(coding, "br")) return std::make_unique<BrotliDecoder>();
  if (iequals(coding, "zstd")) return std::make_unique<ZstdDecoder>();
  return nullptr;
}

}  // namespace rebound::follow
