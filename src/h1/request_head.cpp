// The HTTP/1.1 request head; see request_head.hpp.
#include "h1/request_head.hpp"

#include <boost/beast/core/string.hpp>

namespace rebound::h1 {

void build_request_head(RequestMessage& message, const Request& r, const Url& url, const net::ForwardProxy& forward) {
  namespace http = boost::beast::http;
  message = {};
  message.method_string(r.method());
  // Through a forwarding proxy: the absolute form, "http://host:port/path".
  message.target(forward.absolute_form ? url.str() : url.target());
  message.version(11);
  if (!forward.authorization.empty()) message.set(http::field::proxy_authorization, forward.authorization);
  bool has_host = false;
  for (const auto& [name, value] : r.headers()) {
    if (boost::beast::iequals(name, "host")) has_host = true;
    message.insert(name, value);
  }
  if (!has_host) message.set(http::field::host, url.authority());
  if (!r.headers().contains("user-agent")) message.set(http::field::user_agent, "rebound/0.1");
  message.body() = http::span_body<const char>::value_type(r.body().data(), r.body().size());
}

}  // namespace rebound::h1
