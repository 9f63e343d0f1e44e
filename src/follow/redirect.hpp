// The redirect decision as ordered guard clauses: given the request that
// got a 3xx, its answer and the policy, whether to follow (and the next
// request), decline (the 3xx is the response), or fail. A pure function:
// no I/O, no clock; src/follow/follower.cpp acts on it.
#pragma once

#include <rebound/error.hpp>
#include <rebound/request.hpp>
#include <rebound/url.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rebound::follow {

/// True for the statuses a policy may follow: 301, 302, 303, 307, 308.
bool is_redirect(int status) noexcept;

struct RedirectInput {
  const Request& request;             ///< the hop that got the answer
  const Url& url;                     ///< its URL
  int status = 0;
  std::optional<std::string_view> location;
  RedirectPolicy policy;
  int hops_done = 0;                  ///< redirects already followed
  const std::vector<std::string>& visited;  ///< "METHOD URL" of every hop so far, this one included
  bool body_replayable = true;        ///< false for a streamed body (source or writer)
};

struct RedirectVerdict {
  enum class Kind { deliver, follow, fail } kind = Kind::deliver;
  /// follow: the next hop's request; its url() is the resolved Location.
  std::optional<Request> next;
  /// fail: the error; deliver after a 3xx: why it was not followed.
  std::optional<Error> error;
  std::string why;
};

/// Decides what to do with `in.status` (see redirects.hpp for the rules).
RedirectVerdict decide_redirect(const RedirectInput& in);

/// Resolves a Location against `base` (RFC 3986 section 5): the absolute
/// URL, or errc::invalid_url naming the Location.
Result<std::string> resolve_location(const Url& base, std::string_view location);

}  // namespace rebound::follow
