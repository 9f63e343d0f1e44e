// URL parsing on Boost.URL, with error messages that say what is wrong:
// Boost.URL's own ("mismatch", "leftover input") do not.
#include <rebound/url.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace rebound {
namespace {

Error bad_url(std::string_view text, std::string why) {
  return Error(errc::invalid_url, "\"" + std::string(text) + "\": " + std::move(why));
}

// Boost.URL reports where parsing stopped only as "mismatch"; find the first
// character that cannot appear in a URL at all, which is the usual cause.
std::string explain_syntax_error(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
        c == '^' || c == '`' || c == '{' || c == '|' || c == '}') {
      return "character " + std::to_string(i + 1) + " is not allowed in a URL (escape it as %" +
             "XX)";
    }
  }
  return "not a valid absolute URL (expected scheme://host[:port][/path][?query])";
}

}  // namespace

Result<Url> parse_url(std::string_view text) {
  if (text.empty()) return bad_url(text, "empty URL");
  if (text.find("://") == std::string_view::npos)
    return bad_url(text, "missing scheme (expected http:// or https://)");
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return bad_url(text, explain_syntax_error(text));
  const boost::urls::url_view& u = *parsed;

  Url url;
  url.scheme_ = std::string(u.scheme());
  for (char& c : url.scheme_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (url.scheme_ != "http" && url.scheme_ != "https")
    return Error(errc::unsupported_scheme,
                 "\"" + std::string(text) + "\": scheme \"" + url.scheme_ + "\" (use http or https)");
  if (!u.has_authority()) return bad_url(text, "missing host");
  if (u.has_userinfo())
    return bad_url(text, "user information in URLs is not supported (send an Authorization header)");

  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      url.ipv6_ = true;
      url.host_ = std::string(u.host_address());
      break;
    case boost::urls::host_type::ipvfuture:
      return bad_url(text, "IPvFuture host literals are not supported");
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
      url.host_ = std::string(u.encoded_host());
      if (url.host_.find('%') != std::string::npos)
        return bad_url(text, "percent-encoded host names are not supported");
      break;
    case boost::urls::host_type::none:
      break;
  }
  if (url.host_.empty()) return bad_url(text, "missing host");
  for (char& c : url.host_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  if (u.has_port()) {
    const auto port_text = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        value == 0 || value > 65535)
      return bad_url(text, "port \"" + std::string(port_text) + "\" is not in 1..65535");
    url.port_ = static_cast<std::uint16_t>(value);
  } else {
    url.port_ = url.tls() ? 443 : 80;
  }

  url.target_ = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (url.target_.front() != '/') return bad_url(text, "path must start with '/'");
  if (u.has_query()) url.target_ += "?" + std::string(u.encoded_query());

  const std::string host = url.ipv6_ ? "[" + url.host_ + "]" : url.host_;
  const std::string port = std::to_string(url.port_);
  url.authority_ = url.port_ == (url.tls() ? 443 : 80) ? host : host + ":" + port;
  url.origin_ = url.scheme_ + "://" + host + ":" + port;
  return url;
}

}  // namespace rebound
