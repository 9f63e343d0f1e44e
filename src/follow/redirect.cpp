// The redirect verdict; see redirect.hpp.
#include "follow/redirect.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>

namespace rebound::follow {

bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<std::string> resolve_location(const Url& base, std::string_view location) {
  auto ref = boost::urls::parse_uri_reference(location);
  if (!ref) return Error(errc::invalid_url, "redirect Location \"" + std::string(location) + "\" is not a URI reference");
  const std::string base_text = base.str();
  auto base_view = boost::urls::parse_uri(base_text);
  if (!base_view) return Error(errc::invalid_url, "the request URL " + base_text + " cannot be a base");
  boost::urls::url out;
  if (auto r = boost::urls::resolve(*base_view, *ref, out); !r)
    return Error(errc::invalid_url, "redirect Location \"" + std::string(location) + "\": " + r.error().message());
  out.remove_fragment();
  return std::string(out.buffer());
}

namespace {

// 303 (any method but HEAD) and 301/302 for POST become GET without a body.
bool becomes_get(int status, const std::string& method) {
  if (status == 303) return method != "HEAD" && method != "GET";
  return (status == 301 || status == 302) && method == "POST";
}

void drop_body_fields(Request& r) {
  for (const char* name : {"content-type", "content-length", "content-encoding", "transfer-encoding", "expect"})
    r.headers().remove(name);
}

// Credentials that belong to the origin that got them.
void drop_credentials(Request& r) {
  for (const char* name : {"authorization", "cookie", "proxy-authorization", "host"}) r.headers().remove(name);
}

}  // namespace

RedirectVerdict decide_redirect(const RedirectInput& in) {
  RedirectVerdict v;
  // Not a redirect, or redirects are off: the answer is the response.
  if (!is_redirect(in.status) || !in.policy.enabled()) return v;
  // No Location: nowhere to go (RFC 9110 allows it); the 3xx is the answer.
  if (!in.location || in.location->empty()) {
    v.why = std::to_string(in.status) + " without a Location";
    return v;
  }
  auto target = resolve_location(in.url, *in.location);
  // A Location we cannot use is an error: the caller asked to follow.
  if (!target) {
    v.kind = RedirectVerdict::Kind::fail;
    v.error = target.error();
    return v;
  }
  auto next_url = parse_url(*target);
  if (!next_url) {
    v.kind = RedirectVerdict::Kind::fail;
    v.error = Error(next_url.error().code(), "redirect Location \"" + std::string(*in.location) + "\" -> " +
                                                 *target + ": " + next_url.error().where());
    return v;
  }
  const bool cross_origin = next_url->origin() != in.url.origin();
  // Another origin under same_origin: not ours to follow; the 3xx is the answer.
  if (cross_origin && in.policy.scope == RedirectScope::same_origin) {
    v.why = "to another origin (" + next_url->origin() + ") under a same_origin policy";
    return v;
  }
  const bool to_get = becomes_get(in.status, in.request.method());
  // 307/308 (and 301/302 for a method other than POST) resend the body: a
  // streamed one cannot be read twice.
  if (!to_get && in.request.has_body() && !in.body_replayable) {
    v.why = std::to_string(in.status) + " would resend a streamed request body, which cannot be read twice";
    return v;
  }
  // One hop too many.
  if (in.hops_done >= in.policy.max_redirects) {
    v.kind = RedirectVerdict::Kind::fail;
    v.error = Error(errc::too_many_redirects, "more than " + std::to_string(in.policy.max_redirects) +
                                                  " redirects; the last to " + next_url->str());
    return v;
  }
  Request next = in.request;
  next.url(next_url->str());
  if (to_get) {
    next.method(in.request.method() == "HEAD" ? "HEAD" : "GET");
    next.body(std::string());
    if (next.body_source() || next.body_writer()) next.body_source(nullptr);  // drops a writer too
    drop_body_fields(next);
  }
  if (cross_origin) drop_credentials(next);
  // A hop back to a method and URL already visited goes round for ever.
  const std::string key = next.method() + " " + next_url->str();
  if (std::find(in.visited.begin(), in.visited.end(), key) != in.visited.end()) {
    v.kind = RedirectVerdict::Kind::fail;
    v.error = Error(errc::redirect_loop, std::to_string(in.status) + " from " + in.url.str() + " back to " + key +
                                             ", visited before");
    return v;
  }
  v.kind = RedirectVerdict::Kind::follow;
  v.why = std::to_string(in.status) + " " + in.request.method() + " " + in.url.str() + " -> " + key;
  v.next = std::move(next);
  return v;
}

}  // namespace rebound::follow
