// Test helpers: see test_support.hpp.
#include "test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace rebound::server::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

CommandResult run_command(const std::string& command, std::chrono::seconds limit, bool with_stderr) {
  std::string quoted;  // command inside single quotes, its own quotes escaped
  for (char c : command) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  const std::string full = "timeout -s KILL " + std::to_string(limit.count()) + " sh -c '" + quoted + "'" +
                           (with_stderr ? " 2>&1" : "");
  CommandResult result;
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return result;
  char chunk[65536];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool have_tool(const std::string& tool) {
  return run_command("command -v " + tool + " >/dev/null", std::chrono::seconds(5)).exit_code == 0;
}

const char* name(Transport transport) {
  switch (transport) {
    case Transport::h1_tcp: return "h1_tcp";
    case Transport::h1_tls: return "h1_tls";
    case Transport::h2_tls: return "h2_tls";
    case Transport::h2c: return "h2c";
  }
  return "?";
}

bool uses_tls(Transport transport) { return transport == Transport::h1_tls || transport == Transport::h2_tls; }
bool uses_h2(Transport transport) { return transport == Transport::h2_tls || transport == Transport::h2c; }

CurlResult curl(const Server& server, Transport transport, const std::string& path, const std::string& extra_args) {
  TempFile body;
  TempFile errors;
  std::string protocol;
  switch (transport) {
    case Transport::h1_tcp:
    case Transport::h1_tls: protocol = "--http1.1"; break;
    case Transport::h2_tls: protocol = "--http2"; break;
    case Transport::h2c: protocol = "--http2-prior-knowledge"; break;
  }
  if (uses_tls(transport)) protocol += " --cacert " + server.certificate_file();
  const std::string command = "curl -sS --max-time 15 " + protocol + " -o " + body.path() +
                              " -w \"%{http_version} %{http_code}\" " + extra_args + " " + server.url() + path +
                              " 2>" + errors.path();
  const CommandResult run = run_command(command);
  CurlResult result;
  result.exit_code = run.exit_code;
  std::istringstream words(run.output);
  words >> result.http_version >> result.status;
  result.body = body.read();
  result.error = errors.read();
  return result;
}

TempFile::TempFile(const std::string& content) {
  path_ = (std::filesystem::temp_directory_path() / "rebound-server-test-XXXXXX").string();
  const int fd = ::mkstemp(path_.data());
  if (fd >= 0) ::close(fd);
  if (!content.empty()) std::ofstream(path_, std::ios::binary) << content;
}

TempFile::~TempFile() { std::remove(path_.c_str()); }

std::string TempFile::read() const {
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

RawConnection::RawConnection(std::uint16_t port) : socket_(ioc_) {
  socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), connect_error_);
}

error_code RawConnection::finish(bool& done, error_code& result) {
  ioc_.restart();
  ioc_.run_for(kDeadline);
  if (!done) {
    error_code ignored;
    socket_.cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return asio::error::timed_out;
  }
  return result;
}

error_code RawConnection::write(const std::string& bytes) {
  bool done = false;
  error_code result;
  asio::async_write(socket_, asio::buffer(bytes), [&](error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  return finish(done, result);
}

error_code RawConnection::read(Response& out, bool head) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  parser.skip(head);
  bool done = false;
  error_code result;
  http::async_read(socket_, buffer_, parser, [&](error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  const error_code ec = finish(done, result);
  if (!ec) out = parser.release();
  return ec;
}

error_code RawConnection::read_until_closed(std::string* received) {
  std::string data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  char chunk[4096];
  error_code ended;
  for (;;) {
    bool done = false;
    error_code result;
    std::size_t n = 0;
    socket_.async_read_some(asio::buffer(chunk), [&](error_code ec, std::size_t got) {
      result = ec;
      n = got;
      done = true;
    });
    ended = finish(done, result);
    data.append(chunk, n);
    if (ended) break;
  }
  if (received) *received = std::move(data);
  return ended;
}

error_code RawConnection::request(const std::string& method, const std::string& target, Response& out,
                                  const std::string& body, const std::string& extra_headers) {
  std::string bytes = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  bytes += "\r\n" + body;
  if (auto ec = write(bytes)) return ec;
  return read(out, method == "HEAD");
}


CommandResult nghttp(const Server& server, const std::string& path, const std::string& extra_args) {
  return run_command("nghttp -v --no-dep -n " + extra_args + " " + server.url() + path, std::chrono::seconds(20),
                     true);
}

std::string fnv1a_hex(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace rebound::server::test
