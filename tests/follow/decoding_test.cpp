// Response decoding (src/follow) against real servers: the embedded server
// answering zstd, corrupt and bomb bodies compressed here with libzstd and
// zlib; nginx compressing a file with its gzip filter and the Debian
// brotli filter module.
#include "integration/fixtures.hpp"
#include "interop/peers.hpp"
#include "support/peer_skip.hpp"

#include <gtest/gtest.h>

#include <zlib.h>
#include <zstd.h>

#include <unistd.h>

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

// Text that compresses well but is not one repeated byte.
std::string decoding_sample(std::size_t size) {
  std::string s;
  for (int i = 0; s.size() < size; ++i) s += "line " + std::to_string(i) + " of a compressible body\n";
  s.resize(size);
  return s;
}

std::string zstd_of(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

// gzip of `zeros` zero bytes, made without holding them.
std::string gzip_of_zeros(std::size_t zeros) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  const std::string block(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  for (std::size_t left = zeros; ; ) {
    const std::size_t n = std::min(left, block.size());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
    z.avail_in = static_cast<uInt>(n);
    left -= n;
    const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
    if (left == 0) break;
  }
  deflateEnd(&z);
  return out;
}

server::ServerResponse encoded_response(std::string coding, std::string body) {
  server::ServerResponse r;
  r.headers.emplace_back("content-encoding", std::move(coding));
  r.headers.emplace_back("content-type", "text/plain");
  r.body = std::move(body);
  return r;
}

class Decoding : public ::testing::TestWithParam<HttpVersion> {
 protected:
  void SetUp() override {
    s = start_server();
    s->route("/zstd", [this](const server::ServerRequest& r) {
      std::lock_guard lock(mutex);
      accept_encoding = r.header("accept-encoding");
      return encoded_response("zstd", zstd_of(sample));
    });
    s->route("/bomb", [this](const server::ServerRequest&) { return encoded_response("gzip", bomb); });
    s->route("/corrupt", [](const server::ServerRequest&) { return encoded_response("gzip", "\x1f\x8b\x08 this is not gzip"); });
    s->route("/truncated", [this](const server::ServerRequest&) {
      auto z = zstd_of(sample);
      return encoded_response("zstd", z.substr(0, z.size() / 2));
    });
  }
  Options decoding(Options o = {}) {
    o.decompress = true;
    o.http_version = GetParam();
    o.request_timeout = 5s;
    return o;
  }
  std::string seen_accept_encoding() {
    std::lock_guard lock(mutex);
    return accept_encoding;
  }

  const std::string sample = decoding_sample(300 * 1024);
  // About 64 KiB that decode to 64 MiB; made once for every case.
  static inline const std::string bomb = gzip_of_zeros(64u << 20);
  std::unique_ptr<server::Server> s;
  std::mutex mutex;
  std::string accept_encoding;
};

TEST_P(Decoding, AZstdBodyFromTheEmbeddedServerIsDecodedAndLosesItsEncodingFields) {
  CheckedClient client(decoding());
  auto r = client.get(s->url() + "/zstd");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(seen_accept_encoding(), "gzip, br, zstd");
  EXPECT_EQ(r->body().size(), sample.size());
  EXPECT_TRUE(r->body() == sample);
  EXPECT_FALSE(r->headers().contains("content-encoding"));
  EXPECT_FALSE(r->headers().contains("content-length"));
}

TEST_P(Decoding, ABodySinkGetsDecodedBytesInBoundedPieces) {
  CheckedClient client(decoding());
  std::string streamed;
  std::size_t largest = 0;
  auto r = client.send(Request::get(s->url() + "/zstd").on_body([&](std::string_view c) {
    streamed += c;
    largest = std::max(largest, c.size());
  }));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(streamed == sample);
  EXPECT_LE(largest, 64u * 1024);
}

TEST_P(Decoding, AGzipBombFailsCleanlyOnceTheDecodedBytesPassMaxResponseBody) {
  Options o = decoding();
  o.max_response_body = 1 << 20;
  CheckedClient client(o);
  auto r = client.get(s->url() + "/bomb");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::response_too_large) << r.error().message();
  EXPECT_NE(r.error().message().find("decoded (gzip) body passed max_response_body"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(r.error().attempts(), 1);
  // The client goes on serving.
  auto next = client.get(s->url() + "/zstd");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_TRUE(next->body() == sample);
}

TEST_P(Decoding, ACorruptEncodingIsAnErrorThatSaysSo) {
  CheckedClient client(decoding());
  auto r = client.get(s->url() + "/corrupt");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::content_decoding_failed) << r.error().message();
  EXPECT_NE(r.error().message().find("gzip"), std::string::npos) << r.error().message();
}

TEST_P(Decoding, ATruncatedEncodingIsAnErrorThatSaysSo) {
  CheckedClient client(decoding());
  auto r = client.get(s->url() + "/truncated");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::content_decoding_failed) << r.error().message();
  EXPECT_NE(r.error().message().find("zstd: the compressed stream is truncated"), std::string::npos)
      << r.error().message();
}

TEST_P(Decoding, IsOffByDefaultAndACallersOwnAcceptEncodingGetsTheBytesAsSent) {
  {
    Options o;
    o.http_version = GetParam();
    CheckedClient client(o);
    auto r = client.get(s->url() + "/zstd");
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(seen_accept_encoding(), "");
    EXPECT_EQ(r->headers().value_or("content-encoding", ""), "zstd");
  }
  CheckedClient client(decoding());
  auto r = client.send(Request::get(s->url() + "/zstd").header("accept-encoding", "zstd"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->body() == zstd_of(sample));
}

INSTANTIATE_TEST_SUITE_P(BothProtocols, Decoding,
                         ::testing::Values(HttpVersion::http1_only, HttpVersion::http2_prior_knowledge),
                         [](const auto& info) { return info.param == HttpVersion::http1_only ? "Http1" : "H2c"; });

constexpr const char* brotli_module = "/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so";

TEST(DecodingFromNginx, GzipAndBrFromNginxAreDecoded) {
  if (::access(brotli_module, R_OK) != 0)
    REBOUND_SKIP_FOR_PEER(std::string(brotli_module) + " missing (Debian package libnginx-mod-http-brotli-filter)");
  interop::PeerOptions po;
  po.nginx_modules = {brotli_module};
  po.nginx_server_config =
      "    gzip_types text/plain; gzip_min_length 0; brotli_types text/plain; brotli_min_length 0;\n"
      "    location /gz/ { rewrite ^/gz/(.*)$ /$1 break; gzip on; brotli off; default_type text/plain; }\n"
      "    location /br/ { rewrite ^/br/(.*)$ /$1 break; brotli on; gzip off; default_type text/plain; }\n";
  const std::string text = decoding_sample(200 * 1024);
  po.docroot_files = {{"text.txt", text}};
  auto started = interop::start_peer(interop::PeerKind::nginx, interop::Transport::tls, po);
  if (!started.peer) REBOUND_SKIP_FOR_PEER(started.skip_reason);
  Options o;
  o.tls.ca_file = started.peer->ca_file();
  o.decompress = true;
  o.request_timeout = 5s;
  CheckedClient client(o);
  for (const char* coding : {"gz", "br"}) {
    auto r = client.get(started.peer->url(std::string("/") + coding + "/text.txt"));
    ASSERT_TRUE(r) << coding << ": " << r.error().message() << started.peer->diagnostics();
    EXPECT_EQ(r->status(), 200) << coding;
    EXPECT_EQ(r->body().size(), text.size()) << coding;
    EXPECT_TRUE(r->body() == text) << coding;
    EXPECT_FALSE(r->headers().contains("content-encoding")) << coding;
  }
  // Undecoded, the same bytes come encoded: nginx really compressed them.
  Options raw = o;
  raw.decompress = false;
  CheckedClient plain(raw);
  auto gz = plain.send(Request::get(started.peer->url("/gz/text.txt")).header("accept-encoding", "gzip"));
  ASSERT_TRUE(gz) << gz.error().message();
  EXPECT_EQ(gz->headers().value_or("content-encoding", ""), "gzip");
  EXPECT_LT(gz->body().size(), text.size() / 4);
  auto br = plain.send(Request::get(started.peer->url("/br/text.txt")).header("accept-encoding", "br"));
  ASSERT_TRUE(br) << br.error().message();
  EXPECT_EQ(br->headers().value_or("content-encoding", ""), "br");
}

}  // namespace
}  // namespace rebound::testing
