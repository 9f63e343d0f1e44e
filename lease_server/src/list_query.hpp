// The query of a Lease list or watch request, read as kube-apiserver reads
// it: watch, resourceVersion, resourceVersionMatch, timeoutSeconds,
// allowWatchBookmarks, fieldSelector (metadata.name, metadata.namespace) and
// labelSelector (equality and existence terms). limit and continue are
// accepted and ignored: every list is answered whole, with no continue token,
// which the API allows a server to do.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rebound::lease::detail {

/// Percent-decodes one query component ('+' is a space, as in forms).
std::string percent_decode(std::string_view s);

/// One term of a selector: `key OP value`.
struct SelectorTerm {
  enum class Op { equals, not_equals, exists, not_exists };
  std::string key;
  Op op = Op::equals;
  std::string value;
};

/// Which objects a list or watch is about: a namespace (empty: all), and the
/// selectors' terms, all of which must hold.
struct ObjectFilter {
  std::string ns;
  std::vector<SelectorTerm> fields;  ///< keys: metadata.name, metadata.namespace
  std::vector<SelectorTerm> labels;
  bool matches(const boost::json::object& lease) const;
};

struct ListQuery {
  bool watch = false;
  std::string resource_version;  ///< as sent ("" when absent)
  std::string resource_version_match;
  std::optional<std::chrono::seconds> timeout;
  bool allow_bookmarks = false;
  ObjectFilter filter;
};

/// Parses `target`'s query for a list in namespace `ns` (empty: all).
/// Returns the message of a 400 BadRequest in `error` when it is malformed
/// (an unsupported field label, a set-based label selector, a bad number).
ListQuery parse_list_query(std::string_view target, const std::string& ns, std::string& error);

}  // namespace rebound::lease::detail
