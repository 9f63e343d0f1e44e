// List and watch queries: see list_query.hpp.
#include "list_query.hpp"

#include <boost/json/string.hpp>

#include <charconv>

namespace rebound::lease::detail {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// "a=b,c!=d,e,!f" into terms; set-based terms ("x in (a,b)") are refused.
bool parse_selector(std::string_view text, std::vector<SelectorTerm>& out, bool allow_existence, std::string& error) {
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view term = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (term.empty()) continue;
    SelectorTerm t;
    if (const auto ne = term.find("!="); ne != std::string_view::npos) {
      t.op = SelectorTerm::Op::not_equals;
      t.key = trim(term.substr(0, ne));
      t.value = trim(term.substr(ne + 2));
    } else if (const auto eq = term.find('='); eq != std::string_view::npos) {
      t.op = SelectorTerm::Op::equals;
      t.key = trim(term.substr(0, eq));
      const std::size_t skip = term.substr(eq).starts_with("==") ? 2 : 1;
      t.value = trim(term.substr(eq + skip));
    } else if (allow_existence && term.find(' ') == std::string_view::npos && term.find('(') == std::string_view::npos) {
      t.op = term.front() == '!' ? SelectorTerm::Op::not_exists : SelectorTerm::Op::exists;
      t.key = term.front() == '!' ? term.substr(1) : term;
    } else {
      error = "unable to parse requirement: \"" + std::string(term) + "\" (only =, ==, != and existence are supported)";
      return false;
    }
    if (t.key.empty()) {
      error = "unable to parse requirement: \"" + std::string(term) + "\": empty key";
      return false;
    }
    out.push_back(std::move(t));
  }
  return true;
}

std::optional<std::string_view> string_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

bool holds(const SelectorTerm& t, std::optional<std::string_view> value) {
  switch (t.op) {
    case SelectorTerm::Op::equals: return value && *value == t.value;
    case SelectorTerm::Op::not_equals: return !value || *value != t.value;
    case SelectorTerm::Op::exists: return value.has_value();
    case SelectorTerm::Op::not_exists: return !value.has_value();
  }
  return false;
}

// Go's strconv.ParseBool, as kube-apiserver reads boolean parameters (the
// Python client sends "True").
bool parse_bool(std::string_view v) { return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True"; }

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool ObjectFilter::matches(const boost::json::object& lease) const {
  const auto* meta_value = lease.if_contains("metadata");
  static const boost::json::object kEmpty;
  const auto& meta = meta_value && meta_value->is_object() ? meta_value->get_object() : kEmpty;
  if (!ns.empty() && string_at(meta, "namespace") != std::optional<std::string_view>(ns)) return false;
  for (const auto& t : fields) {
    const auto value = string_at(meta, t.key == "metadata.name" ? "name" : "namespace");
    if (!holds(t, value)) return false;
  }
  if (labels.empty()) return true;
  const auto* labels_value = meta.if_contains("labels");
  const auto& label_map = labels_value && labels_value->is_object() ? labels_value->get_object() : kEmpty;
  for (const auto& t : labels)
    if (!holds(t, string_at(label_map, t.key))) return false;
  return true;
}

ListQuery parse_list_query(std::string_view target, const std::string& ns, std::string& error) {
  ListQuery q;
  q.filter.ns = ns;
  const auto mark = target.find('?');
  std::string_view query = mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
  while (!query.empty() && error.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string key = percent_decode(pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    if (key == "watch") {
      q.watch = parse_bool(value);
    } else if (key == "resourceVersion") {
      q.resource_version = value;
    } else if (key == "resourceVersionMatch") {
      q.resource_version_match = value;
    } else if (key == "allowWatchBookmarks") {
      q.allow_bookmarks = parse_bool(value);
    } else if (key == "timeoutSeconds") {
      long long seconds = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || end != value.data() + value.size() || seconds < 0)
        error = "invalid timeoutSeconds: \"" + value + "\"";
      else
        q.timeout = std::chrono::seconds(seconds);
    } else if (key == "fieldSelector") {
      if (!parse_selector(value, q.filter.fields, false, error)) break;
      for (const auto& t : q.filter.fields) {
        if (t.key != "metadata.name" && t.key != "metadata.namespace") {
          // kube-apiserver's words for a field it cannot select on.
          error = "field label not supported: " + t.key;
          break;
        }
      }
    } else if (key == "labelSelector") {
      parse_selector(value, q.filter.labels, true, error);
    }
    // limit, continue, pretty, timeout, sendInitialEvents...: accepted, ignored.
  }
  return q;
}

}  // namespace rebound::lease::detail
