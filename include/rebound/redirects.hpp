// Following redirects: the policy a Client (Options::redirects) or one
// Request (Request::redirects) follows 3xx answers with.
//
// Off by default (max_redirects 0): a 3xx is the response, as with curl
// without -L. When on, a 301, 302, 303, 307 or 308 with a Location is
// followed as a new request, within the first request's deadline:
//  - 303 turns any method but HEAD into GET, and 301/302 turn POST into GET
//    (what browsers and curl do); the body and its Content-Type,
//    Content-Length and Content-Encoding fields are dropped then.
//  - 307 and 308 keep the method and the body. A body held in memory is
//    sent again. A streamed body (Request::body_source, body_writer) cannot
//    be: such a 307/308 is not followed and is the response, with a
//    `redirect` event saying why (resend it yourself if you can).
//  - To another origin (scheme, host or port), Authorization, Cookie and
//    Proxy-Authorization are dropped; Options::credentials stay scoped to
//    their own origin. A hop back to the first origin does not bring them
//    back.
//  - A redirect the policy does not allow (another origin under
//    same_origin) is the response, not an error.
//  - Errors: more than max_redirects hops fail with
//    errc::too_many_redirects, a hop to a method and URL already visited
//    with errc::redirect_loop, a Location that is not an http(s) URL with
//    errc::invalid_url (the message names the Location). None is retryable.
// Each hop followed (or declined) is an EventKind::redirect event; the final
// Response says its URL and how many hops led to it (Response::url,
// Response::redirects).
//
// Thread safety: a value type.
#pragma once

#include <cstdint>

namespace rebound {

/// Which redirects may be followed.
enum class RedirectScope : std::uint8_t {
  any_origin,   ///< any http(s) URL (credentials dropped across origins)
  same_origin,  ///< only to the same scheme, host and port; others are the response
};

struct RedirectPolicy {
  /// Hops followed at most; one more fails with errc::too_many_redirects.
  /// 0: redirects are not followed (the default).
  int max_redirects = 0;
  RedirectScope scope = RedirectScope::any_origin;

  /// curl -L's defaults: up to `hops` hops to any origin.
  static RedirectPolicy follow(int hops = 20, RedirectScope scope = RedirectScope::any_origin) {
    return {hops, scope};
  }
  bool enabled() const noexcept { return max_redirects > 0; }
};

}  // namespace rebound
