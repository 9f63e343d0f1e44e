// libFuzzer harness for the Lease JSON model (lease/): any text either fails
// to parse as JSON, or maps to a typed Lease or a reason why not. A typed
// Lease survives both ways back: to_json() and write_spec() into the object
// it came from (what a renewal PUTs) read back to the same fields. The text
// itself is also tried as an RFC 3339 time: a time that parses formats to
// text that parses back to the same instant.
#include "fuzz_check.hpp"

#include <rebound/lease/lease.hpp>

#include <boost/json/parse.hpp>

#include <string>

namespace {

using namespace rebound::lease;

bool same_meta(const LeaseMeta& a, const LeaseMeta& b) {
  return a.name == b.name && a.namespace_ == b.namespace_ && a.resource_version == b.resource_version &&
         a.uid == b.uid && a.creation_timestamp == b.creation_timestamp;
}

void check_time(std::string_view text) {
  const auto t = parse_time(text);
  if (!t) return;
  const std::string again = format_micro_time(*t);
  const auto back = parse_time(again);
  FUZZ_CHECK(back.has_value(), "\"%.*s\" parsed, but its formatted form \"%s\" does not", int(text.size()), text.data(),
             again.c_str());
  FUZZ_CHECK(*back == *t, "\"%s\" reads back as another instant", again.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size <= 64) check_time(text);

  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec) return 0;
  std::string why;
  const auto lease = lease_from_json(v, &why);
  if (!lease) {
    FUZZ_CHECK(!why.empty(), "rejected without a reason");
    return 0;
  }
  if (lease->spec.acquire_time) check_time(format_micro_time(*lease->spec.acquire_time));
  if (lease->spec.renew_time) check_time(format_micro_time(*lease->spec.renew_time));

  const auto typed = lease_from_json(to_json(*lease), &why);
  FUZZ_CHECK(typed, "to_json() output rejected: %s", why.c_str());
  FUZZ_CHECK(typed->spec == lease->spec && same_meta(typed->metadata, lease->metadata), "to_json() round trip differs");

  boost::json::object object = v.get_object();
  write_spec(object, lease->spec);
  const auto renewed = lease_from_json(object, &why);
  FUZZ_CHECK(renewed, "write_spec() output rejected: %s", why.c_str());
  FUZZ_CHECK(renewed->spec == lease->spec && same_meta(renewed->metadata, lease->metadata), "write_spec() round trip differs");
  return 0;
}
