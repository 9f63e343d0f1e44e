// Helpers for the server tests: running curl / nghttp with a time bound, a
// blocking-looking raw HTTP/1.1 client whose every operation has a deadline,
// polling for a condition, and the /bytes/N pattern.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "integration/fixtures.hpp"  // open_fds()
#include "rebound/server/server.hpp"

namespace rebound::server::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  ///< stdout (and stderr when asked)
};

/// Runs `command` under `sh -c`, bounded by coreutils `timeout`.
CommandResult run_command(const std::string& command, std::chrono::seconds limit = std::chrono::seconds(20),
                          bool with_stderr = false);

/// Whether `tool` is on PATH.
bool have_tool(const std::string& tool);

/// How curl reaches the server in the protocol-matrix tests.
enum class Transport { h1_tcp, h1_tls, h2_tls, h2c };
const char* name(Transport transport);
bool uses_tls(Transport transport);
bool uses_h2(Transport transport);

struct CurlResult {
  int exit_code = -1;
  std::string http_version;  ///< "1.1" or "2"
  int status = 0;
  std::string body;
  std::string error;  ///< curl's stderr
};

/// curl `path` on `server` over `transport`; extra_args go before the URL.
/// TLS is verified against server.certificate_file().
CurlResult curl(const Server& server, Transport transport, const std::string& path,
                const std::string& extra_args = "");

/// A file in the temp directory, deleted on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& content = "");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  std::string read() const;

 private:
  std::string path_;
};

/// Polls `condition` every few ms until true or `limit` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = std::chrono::seconds(10));

/// A fault test's fixture: once the test's servers, connections and tools
/// are gone (the test body's locals are destroyed before TearDown; members
/// are released by release()), the process must hold exactly the file
/// descriptors it held before the test. A socket that kill(), stop() or a
/// fault left open shows here.
class FdBaselineTest : public ::testing::Test {
 protected:
  void TearDown() override {
    release();
    EXPECT_EQ(rebound::testing::open_fds(), fds_before_) << "file descriptors left behind";
  }
  /// Destroys what the fixture itself holds.
  virtual void release() {}

 private:
  const std::size_t fds_before_ = rebound::testing::open_fds();
};

/// The /bytes/N pattern: byte i is 'a' + i % 26.
std::string pattern(std::size_t n);

/// A plain-TCP HTTP/1.1 client with a deadline on every operation.
class RawConnection {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  static constexpr std::chrono::seconds kDeadline{10};

  explicit RawConnection(std::uint16_t port);
  boost::system::error_code connect_error() const { return connect_error_; }

  boost::system::error_code write(const std::string& bytes);
  /// Reads one response (for a HEAD request pass head = true).
  boost::system::error_code read(Response& out, bool head = false);
  /// Reads raw bytes until the peer closes or resets; returns how it ended.
  boost::system::error_code read_until_closed(std::string* received = nullptr);
  /// "GET /path HTTP/1.1" with Host, optional body (Content-Length), then read.
  boost::system::error_code request(const std::string& method, const std::string& target, Response& out,
                                    const std::string& body = "", const std::string& extra_headers = "");

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  /// This end's port (with the server's, it names the connection in /proc/net/tcp).
  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }

 private:
  /// Runs the io_context until `done` or the deadline; cancels on timeout.
  boost::system::error_code finish(bool& done, boost::system::error_code& result);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code connect_error_;
};


/// `nghttp -v --no-dep -n` (verbose frame log, request on stream 1, body
/// discarded) against server.url() + path; stdout and stderr together.
CommandResult nghttp(const Server& server, const std::string& path, const std::string& extra_args = "");

/// FNV-1a 64 of `data`, in hex: a cheap integrity check for large bodies.
std::string fnv1a_hex(std::string_view data);

}  // namespace rebound::server::test
