// net::TlsStream against a real TLS peer (Asio's ssl::stream as the server)
// over loopback: what one read returns, how endings are reported, and that a
// write to a reset peer is an error, not a SIGPIPE.
#include "net/tls_context.hpp"
#include "net/tls_stream.hpp"

#include <rebound/server/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>

namespace rebound::net {
namespace {

namespace ssl = boost::asio::ssl;

// One connected pair: `client` is the stream under test, `server` Asio's.
class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tls_stream_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const auto cert = (dir_ / "cert.pem").string(), key = (dir_ / "key.pem").string();
    server::write_self_signed_certificate(cert, key);
    server_ctx_.use_certificate_chain_file(cert);
    server_ctx_.use_private_key_file(key, ssl::context::pem);

    tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket client_socket(io_);
    client_socket.connect(acceptor.local_endpoint());
    server_.emplace(acceptor.accept(), server_ctx_);

    Options options;
    options.tls.verify_peer = false;  // the stream's job is records, not trust (the dialer's tests cover that)
    tls_context_.emplace(options);
    client_.emplace(std::move(client_socket), tls_context_->for_handshake()->native_handle());

    error_code client_ec = asio::error::would_block, server_ec = asio::error::would_block;
    client_->async_handshake([&](error_code ec) { client_ec = ec; });
    server_->async_handshake(ssl::stream_base::server, [&](error_code ec) { server_ec = ec; });
    io_.run();
    io_.restart();
    ASSERT_FALSE(client_ec) << client_ec.message();
    ASSERT_FALSE(server_ec) << server_ec.message();
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the loop until `done` (or 5 s pass: a hang fails, it does not block).
  template <class Pred>
  void run_until(Pred done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < until) {
      io_.run_for(std::chrono::milliseconds(10));
      io_.restart();
    }
    ASSERT_TRUE(done()) << "timed out";
  }

  struct ReadResult {
    error_code ec;
    std::size_t n = 0;
  };
  std::optional<ReadResult> read_once(std::string& into) {
    into.assign(64 * 1024, '\0');
    std::optional<ReadResult> r;
    client_->async_read_some(asio::buffer(into), [&](error_code ec, std::size_t n) { r = ReadResult{ec, n}; });
    run_until([&] { return r.has_value(); });
    into.resize(r ? r->n : 0);
    return r;
  }

  std::filesystem::path dir_;
  asio::io_context io_;
  ssl::context server_ctx_{ssl::context::tls_server};
  std::optional<ssl::stream<tcp::socket>> server_;
  std::optional<TlsContext> tls_context_;
  std::optional<TlsStream> client_;
};

TEST_F(TlsStreamTest, OneReadReturnsEveryRecordAlreadyReceived) {
  // Three separate writes are three TLS records; all are on the socket
  // before the client reads.
  for (const char* part : {"first record;", "second record;", "third record"})
    asio::write(*server_, asio::buffer(std::string(part)));
  std::string got;
  const auto r = read_once(got);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec) << r->ec.message();
  EXPECT_EQ(got, "first record;second record;third record");
}

TEST_F(TlsStreamTest, AReadWaitsForDataThatIsNotThereYet) {
  std::string got(16, '\0');
  std::optional<ReadResult> r;
  client_->async_read_some(asio::buffer(got), [&](error_code ec, std::size_t n) { r = ReadResult{ec, n}; });
  io_.run_for(std::chrono::milliseconds(50));
  io_.restart();
  EXPECT_FALSE(r.has_value()) << "completed with nothing to read";
  asio::write(*server_, asio::buffer(std::string("late")));
  run_until([&] { return r.has_value(); });
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(got.substr(0, r->n), "late");
}

TEST_F(TlsStreamTest, AnEmptyBufferCompletesAtOnceWithZeroBytes) {
  std::optional<ReadResult> r;
  client_->async_read_some(asio::mutable_buffer(), [&](error_code ec, std::size_t n) { r = ReadResult{ec, n}; });
  run_until([&] { return r.has_value(); });
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(r->n, 0u);
}

TEST_F(TlsStreamTest, LargeWritesArriveWholeAndInOrder) {
  std::string payload(1 << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::optional<error_code> wrote;
  asio::async_write(*client_, asio::buffer(payload), [&](error_code ec, std::size_t) { wrote = ec; });
  std::string received(payload.size(), '\0');
  std::optional<error_code> read;
  asio::async_read(*server_, asio::buffer(received), [&](error_code ec, std::size_t) { read = ec; });
  run_until([&] { return wrote.has_value() && read.has_value(); });
  EXPECT_FALSE(*wrote) << wrote->message();
  EXPECT_FALSE(*read) << read->message();
  EXPECT_TRUE(received == payload);
}

TEST_F(TlsStreamTest, CloseNotifyFromThePeerIsEof) {
  server_->async_shutdown([](error_code) {});  // sends close_notify (and would wait for ours)
  std::string got;
  const auto r = read_once(got);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, asio::error::eof) << r->ec.message();
}

TEST_F(TlsStreamTest, TcpCloseWithoutCloseNotifyIsStreamTruncated) {
  server_->next_layer().close();
  std::string got;
  const auto r = read_once(got);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, ssl::error::stream_truncated) << r->ec.message();
}

TEST_F(TlsStreamTest, DataBeforeAnAbruptCloseIsDeliveredBeforeTheError) {
  asio::write(*server_, asio::buffer(std::string("last words")));
  server_->next_layer().close();
  std::string got;
  auto r = read_once(got);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(got, "last words");
  r = read_once(got);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, ssl::error::stream_truncated) << r->ec.message();
}

TEST_F(TlsStreamTest, WritingToAResetPeerIsAnErrorNotASignal) {
  // RST instead of FIN: linger 0.
  server_->next_layer().set_option(tcp::socket::linger(true, 0));
  server_->next_layer().close();
  const std::string chunk(64 * 1024, 'x');
  error_code last;
  // The first write may still be accepted by the kernel; later ones must fail.
  for (int i = 0; i < 20 && !last; ++i) {
    std::optional<error_code> r;
    client_->async_write_some(asio::buffer(chunk), [&](error_code ec, std::size_t) { r = ec; });
    run_until([&] { return r.has_value(); });
    last = *r;
  }
  EXPECT_TRUE(last == asio::error::connection_reset || last == asio::error::broken_pipe) << last.message();
}

}  // namespace
}  // namespace rebound::net
