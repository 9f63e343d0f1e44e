// Request authentication: see authenticator.hpp.
#include "authenticator.hpp"

#include <algorithm>
#include <array>

namespace rebound::server::detail {

namespace {

// kube-apiserver's answer to a request no authenticator accepted, byte for byte.
constexpr std::string_view kUnauthorized =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"
    "\n";

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// RFC 4648 base64 (with padding), as basic auth carries "user:password".
std::optional<std::string> base64_decode(std::string_view in) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    if (c == '=') break;
    const auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(pos);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
}

ServerResponse unauthorized() {
  return ServerResponse{401, {{"content-type", "application/json"}}, std::string(kUnauthorized), {}, {}};
}

}  // namespace

bool needs_authentication(std::string_view path) {
  for (std::string_view root : std::array<std::string_view, 2>{"/api", "/apis"}) {
    if (path == root || (path.starts_with(root) && path.size() > root.size() && path[root.size()] == '/')) return true;
  }
  return false;
}

std::optional<ServerResponse> authenticate(const ServerOptions& options, ServerRequest& request,
                                           const std::string& peer_cn) {
  request.user.clear();
  request.read_only = false;
  if (!needs_authentication(request.path)) return std::nullopt;
  const bool credentials_required =
      !options.bearer_tokens.empty() || !options.read_only_tokens.empty() || !options.basic_auth.empty();

  const std::string header = request.header("authorization");
  if (!header.empty()) {
    // A header that names no known credential is refused even on a
    // connection with a client certificate: it says who the client claims to be.
    if (starts_with_ci(header, "Bearer ")) {
      const std::string token = header.substr(7);
      if (contains(options.bearer_tokens, token)) {
        request.user = "admin";
        return std::nullopt;
      }
      if (contains(options.read_only_tokens, token)) {
        request.user = "reader";
        request.read_only = true;
        return std::nullopt;
      }
    } else if (starts_with_ci(header, "Basic ")) {
      if (auto decoded = base64_decode(header.substr(6)); decoded && contains(options.basic_auth, *decoded)) {
        request.user = decoded->substr(0, decoded->find(':'));
        return std::nullopt;
      }
    }
    if (credentials_required || !peer_cn.empty()) return unauthorized();
    return std::nullopt;  // nothing configured: the header means nothing here
  }
  if (!peer_cn.empty()) {
    request.user = peer_cn;
    return std::nullopt;
  }
  if (credentials_required) return unauthorized();
  return std::nullopt;
}

}  // namespace rebound::server::detail
