// Proxy URLs, NO_PROXY matching and the environment; see proxy_config.hpp.
#include "net/proxy_config.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/url/parse.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace rebound::net {
namespace {

namespace ip = boost::asio::ip;

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> as_address(std::string_view s) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return a;
}

// One NO_PROXY entry against host:port.
bool entry_matches(std::string_view entry, std::string_view host, std::uint16_t port) {
  if (entry == "*") return true;
  // Split off ":port": "[v6]:p", "name:p", "v4:p"; a bare IPv6 has several colons.
  std::string_view name = entry;
  std::optional<std::uint16_t> entry_port;
  auto parse_port = [&](std::string_view p) {
    if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    entry_port = static_cast<std::uint16_t>(std::stoul(std::string(p)));
    return true;
  };
  if (name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = name.substr(close + 1);
    name = name.substr(1, close - 1);
    if (!rest.empty() && (rest.front() != ':' || !parse_port(rest.substr(1)))) return false;
  } else if (std::count(name.begin(), name.end(), ':') == 1) {
    const auto colon = name.find(':');
    if (!parse_port(name.substr(colon + 1))) return false;
    name = name.substr(0, colon);
  }
  if (entry_port && *entry_port != port) return false;
  if (name.empty()) return false;

  const auto host_address = as_address(host);
  if (const auto slash = name.find('/'); slash != std::string_view::npos) {  // CIDR
    if (!host_address) return false;
    boost::system::error_code ec;
    if (host_address->is_v4()) {
      const auto net = ip::make_network_v4(std::string(name), ec);
      return !ec && ip::make_network_v4(host_address->to_v4(), net.prefix_length()).canonical() == net.canonical();
    }
    const auto net = ip::make_network_v6(std::string(name), ec);
    return !ec && ip::make_network_v6(host_address->to_v6(), net.prefix_length()).canonical() == net.canonical();
  }
  if (const auto address = as_address(name)) return host_address && *host_address == *address;
  if (host_address) return false;  // a name never matches an IP literal
  // A name: itself and its subdomains; "*.x" and ".x" mean the same.
  if (name.starts_with("*.")) name.remove_prefix(1);
  if (name.starts_with('.')) name.remove_prefix(1);
  if (name.ends_with('.')) name.remove_suffix(1);
  if (host.ends_with('.')) host.remove_suffix(1);
  if (name.empty()) return false;
  if (host.size() == name.size()) return iequal(host, name);
  return host.size() > name.size() && host[host.size() - name.size() - 1] == '.' &&
         iequal(host.substr(host.size() - name.size()), name);
}

const char* first_set(const ProxySelector::Getenv& getenv, std::initializer_list<const char*> names,
                      std::string& which) {
  for (const char* n : names) {
    const char* v = getenv(n);
    if (v && *v) {
      which = n;
      return v;
    }
  }
  return nullptr;
}

}  // namespace

std::string ProxyUrl::display() const {
  const char* scheme = kind == Kind::http ? "http" : kind == Kind::socks5 ? "socks5" : "socks5h";
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(scheme) + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ProxyUrl> parse_proxy_url(std::string_view text) {
  text = trim(text);
  std::string full(text);
  if (full.find("://") == std::string::npos) full = "http://" + full;
  auto parsed = boost::urls::parse_uri(full);
  if (!parsed) return Error(errc::invalid_url, "proxy \"" + std::string(text) + "\": " + parsed.error().message());
  const auto& u = *parsed;
  ProxyUrl p;
  const std::string scheme = u.scheme();
  if (iequal(scheme, "http")) p.kind = ProxyUrl::Kind::http;
  else if (iequal(scheme, "socks5")) p.kind = ProxyUrl::Kind::socks5;
  else if (iequal(scheme, "socks5h")) p.kind = ProxyUrl::Kind::socks5h;
  else if (iequal(scheme, "https"))
    return Error(errc::unsupported_scheme, "proxy \"" + u.host() + "\": https:// proxies are not supported yet");
  else
    return Error(errc::unsupported_scheme, "proxy scheme \"" + scheme + "\" (use http, socks5 or socks5h)");
  p.host = u.host_address();
  if (p.host.size() > 1 && p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
  if (p.host.empty()) return Error(errc::invalid_url, "proxy \"" + std::string(text) + "\": no host");
  if (!u.encoded_path().empty() && u.encoded_path() != "/")
    return Error(errc::invalid_url, "proxy \"" + p.display() + "\": a proxy URL has no path");
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0)
      return Error(errc::invalid_url, "proxy \"" + std::string(text) + "\": bad port");
    p.port = u.port_number();
  } else {
    p.port = p.kind == ProxyUrl::Kind::http ? 80 : 1080;
  }
  if (u.has_userinfo()) {
    p.user = u.user();
    p.password = u.password();
  }
  return p;
}

bool no_proxy_matches(std::string_view list, std::string_view host, std::uint16_t port) {
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find_first_of(", \t", start);
    if (end == std::string_view::npos) end = list.size();
    const auto entry = trim(list.substr(start, end - start));
    if (!entry.empty() && entry_matches(entry, host, port)) return true;
    start = end + 1;
  }
  return false;
}

std::string proxy_basic_authorization(const ProxyUrl& proxy) {
  if (proxy.user.empty() && proxy.password.empty()) return {};
  const std::string in = proxy.user + ":" + proxy.password;
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

ProxySelector::ProxySelector(const ProxyOptions& options, Getenv getenv) {
  if (!options.url.empty()) {
    http_ = https_ = Setting{"Options::proxy.url", parse_proxy_url(options.url)};
    no_proxy_ = options.no_proxy;
    return;
  }
  if (!options.use_environment) return;
  if (!getenv) getenv = [](const char* n) -> const char* { return std::getenv(n); };
  auto setting = [&](std::initializer_list<const char*> names) {
    Setting s;
    if (const char* v = first_set(getenv, names, s.source)) s.proxy = parse_proxy_url(v);
    return s;
  };
  // HTTP_PROXY in upper case is ignored under CGI (REQUEST_METHOD set): a
  // request's "Proxy:" header arrives there as HTTP_PROXY (httpoxy), as in
  // Go and curl.
  const bool cgi = getenv("REQUEST_METHOD") != nullptr;
  http_ = cgi ? setting({"http_proxy", "all_proxy", "ALL_PROXY"})
              : setting({"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"});
  https_ = setting({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
  std::string ignored;
  if (const char* v = first_set(getenv, {"no_proxy", "NO_PROXY"}, ignored)) no_proxy_ = v;
}

Result<std::optional<ProxyUrl>> ProxySelector::for_url(const Url& url) const {
  const Setting& s = url.tls() ? https_ : http_;
  if (!s.proxy) return std::optional<ProxyUrl>();
  if (!*s.proxy) {
    Error e = s.proxy->error();
    return e.set_where(s.source + ": " + e.where());
  }
  if (no_proxy_matches(no_proxy_, url.host(), url.port())) return std::optional<ProxyUrl>();
  return std::optional<ProxyUrl>(**s.proxy);
}

}  // namespace rebound::net
