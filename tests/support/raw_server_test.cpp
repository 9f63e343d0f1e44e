// Self-tests of the raw-server fixture and the HTTP/2 frame helpers, with
// plain POSIX sockets on the client side so nothing of rebound is involved.
#include "support/h2_frames.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
namespace h2 = h2frames;

/// A blocking client socket connected to 127.0.0.1:port.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    const timeval five_seconds{5, 0};  // a broken fixture fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  }
  ~Client() { ::close(fd_); }
  void send(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  /// Everything until the server closes.
  std::string receive_all() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

TEST(RawServer, RunsTheScriptForEachConnectionWithItsIndex) {
  std::mutex m;
  std::set<int> indexes;
  RawServer server([&](RawConnection& conn, int index) {
    std::lock_guard lock(m);
    indexes.insert(index);
  });
  EXPECT_EQ(server.url("/x"), "http://127.0.0.1:" + std::to_string(server.port()) + "/x");
  Client a(server.port()), b(server.port());
  ASSERT_TRUE(server.wait_for_connections(2, 5s));
  // Each script returned at once, so its connection was closed.
  EXPECT_EQ(a.receive_all(), "");
  EXPECT_EQ(b.receive_all(), "");
  EXPECT_EQ(server.connections_accepted(), 2);
  std::lock_guard lock(m);
  EXPECT_EQ(indexes, (std::set<int>{0, 1}));
  EXPECT_FALSE(server.wait_for_connections(3, 10ms));
}

TEST(RawServer, ReadUntilKeepsBytesPastTheDelimiterForTheNextRead) {
  std::string head, body;
  std::size_t total = 0;
  {  // the script's results are read once the server has joined its thread
    RawServer server([&](RawConnection& conn, int) {
      head = conn.read_until("\r\n\r\n");
      body = conn.read_exactly(5);
      total = conn.bytes_read();
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    Client client(server.port());
    client.send("POST / HTTP/1.1\r\nContent-");
    client.send("Length: 5\r\n\r\nhel");
    client.send("lo");
    EXPECT_EQ(client.receive_all(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_TRUE(server.errors().empty());
  }
  EXPECT_EQ(head, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(total, head.size() + body.size());
}

TEST(RawServer, AReturningScriptClosesWithFinEvenWithTheClientsBytesUnread) {
  // close() on a socket with unread input sends RST and drops what is still
  // queued for sending, so a hostile script that wrote its frames and
  // returned could have its last bytes replaced by ECONNRESET. The fixture
  // promises FIN: everything written arrives, then EOF.
  const std::string payload(4u << 20, 'p');
  RawServer server([&](RawConnection& conn, int) {
    conn.read_exactly(1);
    conn.write(payload);
  });
  Client client(server.port());
  client.send("x");
  std::string received;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(client.fd(), buf, sizeof buf, 0)) > 0) {
    if (received.empty()) client.send("bytes the script never reads");  // it is writing by now
    received.append(buf, static_cast<std::size_t>(n));
    if (received.size() < (1u << 20)) std::this_thread::sleep_for(1ms);  // a slow reader: the script returns first
  }
  EXPECT_EQ(n, 0) << "the connection ended with " << std::strerror(errno) << " after " << received.size() << " bytes";
  EXPECT_EQ(received.size(), payload.size());
}

TEST(RawServer, ResetMakesTheClientSeeEconnreset) {
  RawServer server([](RawConnection& conn, int) {
    conn.read_some();
    conn.reset();
  });
  Client client(server.port());
  client.send("x");
  char buf[16];
  EXPECT_EQ(::recv(client.fd(), buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

TEST(RawServer, ScriptExceptionsAreRecorded) {
  RawServer server([](RawConnection& conn, int) { conn.read_exactly(10, 50ms); });
  Client client(server.port());
  client.send("short");
  EXPECT_EQ(client.receive_all(), "");
  ASSERT_EQ(server.errors().size(), 1u);
  EXPECT_NE(server.errors()[0].find("5 of 10 bytes"), std::string::npos) << server.errors()[0];
}

TEST(RawServer, DestructorUnblocksAScriptBlockedInReadSome) {
  std::atomic<bool> reading = false;
  std::optional<std::string> got;
  auto server = std::make_unique<RawServer>([&](RawConnection& conn, int) {
    reading = true;
    got = conn.read_some(60s);
  });
  Client client(server->port());
  ASSERT_TRUE(server->wait_for_connections(1, 5s));
  while (!reading) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(got, "");
}

TEST(H2Frames, FrameHeaderIsLengthTypeFlagsAndStreamId) {
  const std::string payload(0x011170, 'p');  // needs all three length bytes
  const std::string f = h2::frame(h2::HEADERS, 0x25, 0x80000003, payload);
  ASSERT_EQ(f.size(), 9 + payload.size());
  // Length 0x011170, type, flags, stream 3 with the reserved bit cleared.
  EXPECT_EQ(f.substr(0, 9), "\x01\x11\x70\x01\x25\x00\x00\x00\x03"s);
  EXPECT_EQ(f.substr(9), payload);
  EXPECT_EQ(h2::settings({{h2::setting::MAX_CONCURRENT_STREAMS, 100}}),
            "\x00\x00\x06\x04\x00\x00\x00\x00\x00"s + "\x00\x03\x00\x00\x00\x64"s);
  EXPECT_EQ(h2::settings_ack(), "\x00\x00\x00\x04\x01\x00\x00\x00\x00"s);
  EXPECT_EQ(h2::rst_stream(5, 8), "\x00\x00\x04\x03\x00\x00\x00\x00\x05"s + "\x00\x00\x00\x08"s);
  EXPECT_EQ(h2::goaway(7, 2, "bye"),
            "\x00\x00\x0b\x07\x00\x00\x00\x00\x00"s + "\x00\x00\x00\x07\x00\x00\x00\x02"s + "bye");
  EXPECT_EQ(h2::data(1, "hi", true), "\x00\x00\x02\x00\x01\x00\x00\x00\x01"s + "hi");
}

TEST(H2Frames, HeadersRoundTripThroughNghttp2sInflater) {
  const h2::Fields first{
      {":status", "200"}, {"content-type", "text/plain"}, {"x-long", std::string(300, 'v')}};
  const h2::Fields second{{":status", "404"}, {"x-long", std::string(300, 'v')}};
  nghttp2_hd_inflater* inflater = nullptr;
  ASSERT_EQ(nghttp2_hd_inflate_new(&inflater), 0);
  auto inflate = [&](const std::string& f) {
    h2::Fields out;
    auto in = reinterpret_cast<const std::uint8_t*>(f.data()) + 9;
    std::size_t left = f.size() - 9;
    for (;;) {
      nghttp2_nv nv;
      int flags = 0;
      const auto used = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, in, left, 1);
      if (used < 0) ADD_FAILURE() << nghttp2_strerror(int(used));
      if (used < 0) break;
      in += used;
      left -= static_cast<std::size_t>(used);
      if (flags & NGHTTP2_HD_INFLATE_EMIT)
        out.emplace_back(std::string(reinterpret_cast<char*>(nv.name), nv.namelen),
                         std::string(reinterpret_cast<char*>(nv.value), nv.valuelen));
      if (flags & NGHTTP2_HD_INFLATE_FINAL) break;
    }
    nghttp2_hd_inflate_end_headers(inflater);
    return out;
  };
  // Built in one order, decoded in the other by one inflater: blocks are self-contained.
  const std::string f1 = h2::headers(1, first, false), f3 = h2::headers(3, second, true);
  EXPECT_EQ(f3.substr(3, 6), "\x01\x05\x00\x00\x00\x03"s);  // END_HEADERS | END_STREAM
  EXPECT_EQ(f1[4], h2::flag::END_HEADERS);
  EXPECT_EQ(inflate(f3), second);
  EXPECT_EQ(inflate(f1), first);
  nghttp2_hd_inflate_del(inflater);
}

TEST(H2Frames, FrameReaderReadsTheClientsFramesAndHpackDecoderKeepsItsTable) {
  const h2::Fields request{{":method", "GET"}, {":path", "/p"}, {"user-agent", "rebound-test"}};
  // The client's encoder uses its dynamic table, so its second block refers to the first.
  nghttp2_hd_deflater* deflater = nullptr;
  ASSERT_EQ(nghttp2_hd_deflate_new(&deflater, 4096), 0);
  std::vector<nghttp2_nv> nva;
  for (const auto& [name, value] : request)
    nva.push_back({(std::uint8_t*)name.data(), (std::uint8_t*)value.data(), name.size(), value.size(), 0});
  auto encode = [&] {
    std::string out(nghttp2_hd_deflate_bound(deflater, nva.data(), nva.size()), '\0');
    out.resize(
        nghttp2_hd_deflate_hd(deflater, (std::uint8_t*)out.data(), out.size(), nva.data(), nva.size()));
    return out;
  };
  const std::string block1 = encode(), block3 = encode();
  nghttp2_hd_deflate_del(deflater);
  ASSERT_LT(block3.size(), block1.size());

  std::vector<h2::Frame> frames;
  h2::Fields decoded1, decoded3;
  {  // the script's results are read once the server has joined its thread
    RawServer server([&](RawConnection& conn, int) {
      h2::FrameReader reader(conn);
      reader.read_preface();
      conn.write(h2::server_preface() + h2::settings_ack());
      frames.push_back(reader.next());
      frames.push_back(reader.next_of_type(h2::HEADERS));
      frames.push_back(reader.next_of_type(h2::HEADERS));
      h2::HpackDecoder decoder;
      decoded1 = decoder.decode(frames[1].header_block());
      decoded3 = decoder.decode(frames[2].header_block());
      conn.write(h2::goaway(3, 0));
    });
    Client client(server.port());
    // Stream 1's HEADERS is padded and carries priority fields, and a PING comes before it to be skipped.
    const std::string pad_length = "\x02", priority = "\x00\x00\x00\x00\x0f"s;
    client.send(std::string(h2::client_preface) + h2::settings({{h2::setting::ENABLE_PUSH, 0}}) +
                h2::ping(false) +
                h2::frame(h2::HEADERS, h2::flag::END_HEADERS | h2::flag::PADDED | h2::flag::PRIORITY, 1,
                          pad_length + priority + block1 + "\0\0"s) +
                h2::frame(h2::HEADERS, h2::flag::END_HEADERS | h2::flag::END_STREAM, 3, block3));
    EXPECT_EQ(client.receive_all(), h2::settings() + h2::settings_ack() + h2::goaway(3, 0));
    ASSERT_TRUE(server.errors().empty()) << server.errors()[0];
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].type, h2::SETTINGS);
  EXPECT_EQ(h2::u32_at(frames[0].payload, 2), 0u);  // ENABLE_PUSH = 0
  EXPECT_EQ(frames[1].stream_id, 1u);
  EXPECT_EQ(frames[2].stream_id, 3u);
  EXPECT_EQ(frames[2].flags, h2::flag::END_HEADERS | h2::flag::END_STREAM);
  EXPECT_EQ(decoded1, request);
  EXPECT_EQ(decoded3, request);
}

}  // namespace
}  // namespace rebound::testing
