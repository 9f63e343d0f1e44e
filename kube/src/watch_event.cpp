// Parsing watch lines and comparing resourceVersions; see watch_event.hpp.
#include "watch_event.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

namespace rebound::kube::detail {
namespace {

namespace json = boost::json;

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<WatchEvent::Type> event_type(std::string_view t) {
  if (t == "ADDED") return WatchEvent::Type::added;
  if (t == "MODIFIED") return WatchEvent::Type::modified;
  if (t == "DELETED") return WatchEvent::Type::deleted;
  if (t == "BOOKMARK") return WatchEvent::Type::bookmark;
  return std::nullopt;
}

std::optional<std::uint64_t> decimal(const std::string& s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// client-go's reflector calls a version "too large" by the Status cause
// ResourceVersionTooLarge, or (servers before 1.18.6) by a Timeout whose
// cause or message says "Too large resource version".
bool says_too_large(const json::object& status) {
  constexpr std::string_view text = "Too large resource version";
  bool timeout = string_at(status, "reason") == "Timeout";
  if (timeout && string_at(status, "message").find(text) != std::string::npos) return true;
  const auto* details = status.if_contains("details");
  const auto* causes = details && details->is_object() ? details->get_object().if_contains("causes") : nullptr;
  if (!causes || !causes->is_array()) return false;
  for (const auto& cause : causes->get_array()) {
    if (!cause.is_object()) continue;
    if (string_at(cause.get_object(), "reason") == "ResourceVersionTooLarge") return true;
    if (timeout && string_at(cause.get_object(), "message") == text) return true;
  }
  return false;
}

WatchError status_error(const json::object& status) {
  WatchError e;
  if (const auto* code = status.if_contains("code"); code && code->is_int64()) e.code = static_cast<int>(code->get_int64());
  e.message = string_at(status, "reason");
  const std::string msg = string_at(status, "message");
  if (!msg.empty()) e.message += (e.message.empty() ? "" : ": ") + msg;
  e.too_large_resource_version = says_too_large(status);
  return e;
}

}  // namespace

ParsedLine parse_watch_line(std::string_view line) {
  boost::system::error_code ec;
  json::value doc = json::parse(line, ec);
  if (ec || !doc.is_object()) return BadLine{"not a JSON object: " + std::string(line.substr(0, 120))};
  auto& o = doc.get_object();
  const std::string type = string_at(o, "type");
  auto* object = o.if_contains("object");
  if (!object || !object->is_object()) return BadLine{"event without an object: " + std::string(line.substr(0, 120))};
  auto& obj = object->get_object();
  if (type == "ERROR") return status_error(obj);
  const auto t = event_type(type);
  if (!t) return BadLine{"unknown event type \"" + type + "\""};
  WatchEvent ev;
  ev.type = *t;
  if (const auto* meta = obj.if_contains("metadata"); meta && meta->is_object())
    ev.resource_version = string_at(meta->get_object(), "resourceVersion");
  if (ev.resource_version.empty()) return BadLine{"event without metadata.resourceVersion"};
  ev.object = std::move(obj);
  return ev;
}

std::optional<WatchError> parse_status_body(std::string_view body) {
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object() || string_at(doc.get_object(), "kind") != "Status") return std::nullopt;
  return status_error(doc.get_object());
}

bool not_newer(const std::string& candidate, const std::string& last) {
  const auto c = decimal(candidate), l = decimal(last);
  return c && l && *c <= *l;
}

std::string describe_status_body(int status, const std::string& body) {
  boost::system::error_code ec;
  const auto doc = json::parse(body, ec);
  if (!ec && doc.is_object()) {
    std::string reason = string_at(doc.get_object(), "reason"), message = string_at(doc.get_object(), "message");
    if (!reason.empty() || !message.empty())
      return "HTTP " + std::to_string(status) + " " + reason + (message.empty() ? "" : ": " + message);
  }
  return "HTTP " + std::to_string(status) + ": " + body.substr(0, 200);
}

}  // namespace rebound::kube::detail
