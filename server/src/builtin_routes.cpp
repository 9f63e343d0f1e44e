// The built-in routes: see builtin_routes.hpp.
#include "builtin_routes.hpp"

#include <charconv>
#include <optional>
#include <string_view>

namespace rebound::server::detail {

namespace {

constexpr std::size_t kMaxBytes = std::size_t{1} << 30;     // /bytes/N cap: 1 GiB
constexpr std::uint64_t kMaxDelayMs = 10 * 60 * 1000;        // /delay/MS cap: 10 min

/// The number after `prefix` in the path, when the rest is all digits.
std::optional<std::uint64_t> number_after(std::string_view path, std::string_view prefix) {
  std::string_view rest = path.substr(prefix.size());
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || end != rest.data() + rest.size() || rest.empty()) return std::nullopt;
  return value;
}

ServerResponse text(int status, std::string body) {
  return ServerResponse{status, {{"content-type", "text/plain"}}, std::move(body)};
}

ServerResponse root(const ServerRequest&) { return text(200, "rebound test server\n"); }

ServerResponse bytes(const ServerRequest& request) {
  auto n = number_after(request.path, "/bytes/");
  if (!n || *n > kMaxBytes) return text(400, "usage: /bytes/N with N <= 2^30\n");
  return ServerResponse{200, {{"content-type", "application/octet-stream"}}, pattern_bytes(*n)};
}

ServerResponse delay(const ServerRequest& request) {
  auto ms = number_after(request.path, "/delay/");
  if (!ms || *ms > kMaxDelayMs) return text(400, "usage: /delay/MS with MS <= 600000\n");
  ServerResponse response = text(200, "delayed " + std::to_string(*ms) + " ms\n");
  response.delay = std::chrono::milliseconds(*ms);
  return response;
}

ServerResponse status(const ServerRequest& request) {
  auto code = number_after(request.path, "/status/");
  // 1xx are not final responses: a handler cannot answer with one.
  if (!code || *code < 200 || *code > 599) return text(400, "usage: /status/CODE with 200 <= CODE <= 599\n");
  const int value = static_cast<int>(*code);
  if (value == 204 || value == 304) return ServerResponse{value, {}, {}};
  return text(value, "status " + std::to_string(value) + "\n");
}

ServerResponse echo(const ServerRequest& request) {
  std::size_t size = request.method.size() + request.target.size() + request.protocol.size() + 4 +
                     request.body.size();
  for (const auto& [name, value] : request.headers) size += name.size() + value.size() + 3;

  std::string body;
  body.reserve(size);
  body.append(request.method).append(" ").append(request.target).append(" ").append(request.protocol).append("\n");
  for (const auto& [name, value] : request.headers) body.append(name).append(": ").append(value).append("\n");
  body.append("\n").append(request.body);
  return text(200, std::move(body));
}

}  // namespace

std::string pattern_bytes(std::size_t n) {
  // A block whose length is a multiple of 26 keeps the pattern continuous
  // across appends, so the body is built with memcpy-speed appends.
  static const std::string block = [] {
    std::string b(26 * 4096, '\0');
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + i % 26);
    return b;
  }();
  std::string out;
  out.reserve(n);
  while (out.size() + block.size() <= n) out.append(block);
  out.append(block, 0, n - out.size());
  return out;
}

void add_builtin_routes(Router& router) {
  router.add("/", root);
  router.add("/bytes/*", bytes);
  router.add("/delay/*", delay);
  router.add("/status/*", status);
  router.add("/echo", echo);
}

}  // namespace rebound::server::detail
