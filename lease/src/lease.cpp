// The Lease model: RFC 3339 times, API paths, and the JSON <-> typed view
// mapping. See rebound/lease/lease.hpp.
#include "rebound/lease/lease.hpp"

#include <boost/json/string.hpp>

#include <cstdio>

namespace rebound::lease {

namespace chr = std::chrono;

MicroTime now_micro() { return chr::floor<chr::microseconds>(chr::system_clock::now()); }

namespace {

// Date and time-of-day parts of a MicroTime, for both formatters.
struct Parts {
  int year;
  unsigned month, day;
  long hours, minutes, seconds, micros;
};

Parts split(MicroTime t) {
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss<chr::microseconds> tod{t - day};
  return {int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()), long(tod.hours().count()),
          long(tod.minutes().count()), long(tod.seconds().count()), long(tod.subseconds().count())};
}

// Reads exactly `n` digits at `pos`; advances `pos`.
std::optional<int> digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string format_micro_time(MicroTime t) {
  const Parts p = split(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%06ldZ", p.year, p.month, p.day, p.hours,
                p.minutes, p.seconds, p.micros);
  return buf;
}

std::string format_time(MicroTime t) {
  const Parts p = split(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", p.year, p.month, p.day, p.hours, p.minutes,
                p.seconds);
  return buf;
}

std::optional<MicroTime> parse_time(std::string_view s) {
  std::size_t pos = 0;
  const auto year = digits(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  const auto month = digits(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  const auto day = digits(s, pos, 2);
  if (!day || pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) return std::nullopt;
  ++pos;
  const auto hour = digits(s, pos, 2);
  if (!hour || !expect(s, pos, ':')) return std::nullopt;
  const auto minute = digits(s, pos, 2);
  if (!minute || !expect(s, pos, ':')) return std::nullopt;
  const auto second = digits(s, pos, 2);
  if (!second) return std::nullopt;

  long micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    long scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      // Digits beyond microseconds are dropped (truncation, like Kubernetes' MicroTime).
      if (scale > 0) micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0) return std::nullopt;
  }

  chr::minutes offset{0};
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = digits(s, pos, 2);
    if (!oh || !expect(s, pos, ':')) return std::nullopt;
    const auto om = digits(s, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = chr::minutes(sign * (*oh * 60 + *om));
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  const chr::year_month_day ymd{chr::year(*year), chr::month(unsigned(*month)), chr::day(unsigned(*day))};
  // 60 allows a leap second, which then reads as the next second's start.
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  const MicroTime t = MicroTime(chr::sys_days(ymd)) + chr::hours(*hour) + chr::minutes(*minute) +
                      chr::seconds(*second) + chr::microseconds(micros) - offset;
  // An offset or a leap second can carry the instant out of years 0000-9999,
  // which format_micro_time cannot write back in a form this accepts: a lease
  // read with it could not be renewed (found by tests/fuzz/lease_fuzz).
  if (t < MicroTime(chr::sys_days(chr::year(0) / 1 / 1)) || t >= MicroTime(chr::sys_days(chr::year(10000) / 1 / 1)))
    return std::nullopt;
  return t;
}

std::string leases_path(std::string_view ns) {
  std::string p = "/apis/coordination.k8s.io/v1/namespaces/";
  p.append(ns).append("/leases");
  return p;
}

std::string lease_path(std::string_view ns, std::string_view name) {
  std::string p = leases_path(ns);
  p.append("/").append(name);
  return p;
}

namespace {

// Field readers: absent and null read as "unset"; a present value of the
// wrong type is an error (the API server would reject it too).
bool read_string(const boost::json::object& o, std::string_view key, std::string& out, std::string* why) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) {
    if (why) *why = std::string(key) + ": expected a string";
    return false;
  }
  out = std::string(v->get_string());
  return true;
}

bool read_int(const boost::json::object& o, std::string_view key, std::optional<std::int32_t>& out,
              std::string* why) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (v->is_int64() && v->get_int64() >= INT32_MIN && v->get_int64() <= INT32_MAX) {
    out = static_cast<std::int32_t>(v->get_int64());
    return true;
  }
  if (v->is_uint64() && v->get_uint64() <= INT32_MAX) {
    out = static_cast<std::int32_t>(v->get_uint64());
    return true;
  }
  if (why) *why = std::string(key) + ": expected a 32-bit integer";
  return false;
}

bool read_time(const boost::json::object& o, std::string_view key, std::optional<MicroTime>& out,
               std::string* why) {
  std::string text;
  if (!read_string(o, key, text, why)) return false;
  if (text.empty()) return true;
  out = parse_time(text);
  if (!out && why) *why = std::string(key) + ": not an RFC 3339 time: " + text;
  return out.has_value();
}

}  // namespace

std::optional<Lease> lease_from_json(const boost::json::value& v, std::string* why) {
  if (!v.is_object()) {
    if (why) *why = "expected a JSON object";
    return std::nullopt;
  }
  const auto& o = v.get_object();
  Lease lease;
  if (const auto* m = o.if_contains("metadata"); m && !m->is_null()) {
    if (!m->is_object()) {
      if (why) *why = "metadata: expected an object";
      return std::nullopt;
    }
    const auto& meta = m->get_object();
    auto& out = lease.metadata;
    if (!read_string(meta, "name", out.name, why) || !read_string(meta, "namespace", out.namespace_, why) ||
        !read_string(meta, "resourceVersion", out.resource_version, why) ||
        !read_string(meta, "uid", out.uid, why) ||
        !read_string(meta, "creationTimestamp", out.creation_timestamp, why))
      return std::nullopt;
  }
  if (const auto* s = o.if_contains("spec"); s && !s->is_null()) {
    if (!s->is_object()) {
      if (why) *why = "spec: expected an object";
      return std::nullopt;
    }
    const auto& spec = s->get_object();
    auto& out = lease.spec;
    std::optional<std::int32_t> transitions;
    if (!read_string(spec, "holderIdentity", out.holder_identity, why) ||
        !read_int(spec, "leaseDurationSeconds", out.lease_duration_seconds, why) ||
        !read_time(spec, "acquireTime", out.acquire_time, why) ||
        !read_time(spec, "renewTime", out.renew_time, why) ||
        !read_int(spec, "leaseTransitions", transitions, why))
      return std::nullopt;
    out.lease_transitions = transitions.value_or(0);
  }
  return lease;
}

void write_spec(boost::json::object& lease, const LeaseSpec& spec) {
  auto* existing = lease.if_contains("spec");
  if (!existing || !existing->is_object()) lease["spec"] = boost::json::object{};
  auto& s = lease["spec"].get_object();
  // holderIdentity is always written, "" included: that is how a release
  // says "nobody" (client-go sends it the same way).
  s["holderIdentity"] = spec.holder_identity;
  if (spec.lease_duration_seconds)
    s["leaseDurationSeconds"] = *spec.lease_duration_seconds;
  else
    s.erase("leaseDurationSeconds");
  if (spec.acquire_time)
    s["acquireTime"] = format_micro_time(*spec.acquire_time);
  else
    s.erase("acquireTime");
  if (spec.renew_time)
    s["renewTime"] = format_micro_time(*spec.renew_time);
  else
    s.erase("renewTime");
  s["leaseTransitions"] = spec.lease_transitions;
}

boost::json::object to_json(const Lease& lease) {
  boost::json::object o;
  o["apiVersion"] = api_version;
  o["kind"] = "Lease";
  boost::json::object meta;
  const auto put = [&meta](std::string_view key, const std::string& v) {
    if (!v.empty()) meta[key] = v;
  };
  put("name", lease.metadata.name);
  put("namespace", lease.metadata.namespace_);
  put("resourceVersion", lease.metadata.resource_version);
  put("uid", lease.metadata.uid);
  put("creationTimestamp", lease.metadata.creation_timestamp);
  o["metadata"] = std::move(meta);
  write_spec(o, lease.spec);
  return o;
}

}  // namespace rebound::lease
