// The head of an HTTP/1.1 request as Beast serialises it: method, target
// (origin form, or absolute form through a forwarding proxy, with its
// credentials), the caller's fields, Host and User-Agent when the caller
// set none, and the body referenced in place (never copied).
#pragma once

#include "net/dialer.hpp"

#include <rebound/request.hpp>
#include <rebound/url.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/span_body.hpp>

namespace rebound::h1 {

using RequestMessage = boost::beast::http::request<boost::beast::http::span_body<const char>>;

/// Fills `message` for `request` to `url`; the length framing (and a body
/// source's) is the caller's.
void build_request_head(RequestMessage& message, const Request& request, const Url& url,
                        const net::ForwardProxy& forward);

}  // namespace rebound::h1
