// libFuzzer harness for header handling: a sequence of add/set/remove/get/
// clear operations on rebound::Headers, checked against a plain model after
// each step, then the request's HTTP/2 header block (h2::HeaderBlock) built
// from the result and checked: pseudo-headers first and right, names
// lower-cased, connection-specific fields dropped, user-agent and
// content-length added exactly when needed, every field pointing at live
// memory (ASan reads each byte). Header names are only those the Client
// lets through (Client::validate: non-empty, no space, tab, CR, LF or ':';
// values without CR or LF).
#include "fuzz_check.hpp"
#include "h2/h2_session.hpp"

#include <rebound/headers.hpp>
#include <rebound/request.hpp>
#include <rebound/url.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace {

using Field = std::pair<std::string, std::string>;

char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), fold);
  return s;
}
bool same_name(const std::string& a, const std::string& b) { return lower(a) == lower(b); }

bool valid_name(const std::string& n) { return !n.empty() && n.find_first_of(" \t\r\n:") == std::string::npos; }
bool valid_value(const std::string& v) { return v.find_first_of("\r\n") == std::string::npos; }

void check_same(const rebound::Headers& h, const std::vector<Field>& model) {
  FUZZ_CHECK(h.size() == model.size(), "%zu fields, model %zu", h.size(), model.size());
  FUZZ_CHECK(std::equal(h.begin(), h.end(), model.begin()), "fields differ from the model");
}

std::string_view sv(const nghttp2_nv& nv, bool name) {
  return name ? std::string_view(reinterpret_cast<const char*>(nv.name), nv.namelen)
              : std::string_view(reinterpret_cast<const char*>(nv.value), nv.valuelen);
}

bool connection_specific(std::string_view n) {
  for (std::string_view c : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "te"})
    if (n == c) return true;
  return false;
}

void check_header_block(const rebound::Request& request, const rebound::Url& url) {
  const rebound::h2::HeaderBlock block(request, url);
  const nghttp2_nv* nv = block.data();
  FUZZ_CHECK(block.size() >= 5, "%zu fields", block.size());
  const auto host = request.headers().get("host");
  const std::pair<std::string_view, std::string_view> pseudo[] = {
      {":method", request.method()}, {":scheme", url.scheme()},
      {":authority", host ? *host : std::string_view(url.authority())}, {":path", url.target()}};
  for (std::size_t i = 0; i < 4; ++i)
    FUZZ_CHECK(sv(nv[i], true) == pseudo[i].first && sv(nv[i], false) == pseudo[i].second, "pseudo-header %zu", i);

  // What must follow: the user's fields in order, lower-cased, minus the
  // connection-specific ones; then user-agent and content-length if absent.
  std::vector<Field> want;
  bool user_agent = false;
  for (const auto& [name, value] : request.headers()) {
    std::string n = lower(name);
    if (connection_specific(n)) continue;
    user_agent |= n == "user-agent";
    want.emplace_back(std::move(n), value);
  }
  if (!user_agent) want.emplace_back("user-agent", "rebound/0.1");
  if (!request.body().empty() && !request.headers().contains("content-length"))
    want.emplace_back("content-length", std::to_string(request.body().size()));
  FUZZ_CHECK(block.size() == 4 + want.size(), "%zu fields, want %zu", block.size(), 4 + want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    FUZZ_CHECK(sv(nv[4 + i], true) == want[i].first && sv(nv[4 + i], false) == want[i].second, "field %zu", i);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  rebound::Headers h;
  std::vector<Field> model;
  for (int step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
    const int op = in.ConsumeIntegralInRange(0, 4);
    std::string name = in.ConsumeRandomLengthString(24);
    if (!valid_name(name)) continue;
    switch (op) {
      case 0:
      case 1: {
        std::string value = in.ConsumeRandomLengthString(40);
        if (!valid_value(value)) continue;
        if (op == 0) {
          h.add(name, value);
          model.emplace_back(name, value);
        } else {
          h.set(name, value);
          // set() replaces every field of the name with one, appended last.
          std::erase_if(model, [&](const Field& f) { return same_name(f.first, name); });
          model.emplace_back(name, value);
        }
        break;
      }
      case 2: {
        const std::size_t n = std::erase_if(model, [&](const Field& f) { return same_name(f.first, name); });
        FUZZ_CHECK(h.remove(name) == n, "remove(%s) count", name.c_str());
        break;
      }
      case 3: {
        const auto it = std::find_if(model.begin(), model.end(), [&](const Field& f) { return same_name(f.first, name); });
        const auto got = h.get(name);
        FUZZ_CHECK(got.has_value() == (it != model.end()), "get(%s) presence", name.c_str());
        if (got) FUZZ_CHECK(*got == it->second, "get(%s) value", name.c_str());
        FUZZ_CHECK(h.value_or(name, "\x01") == (got ? *got : std::string_view("\x01")), "value_or");
        break;
      }
      case 4:
        h.clear();
        model.clear();
        break;
    }
    check_same(h, model);
  }

  static const std::string methods[] = {"GET", "POST", "PUT", "HEAD", "PATCH"};
  rebound::Request request(methods[in.ConsumeIntegralInRange<std::size_t>(0, 4)], "http://fuzz.test:8080/p?q=1");
  request.headers() = h;
  request.body(in.ConsumeRemainingBytesAsString());
  const auto url = rebound::parse_url(request.url());
  FUZZ_CHECK(url.has_value(), "the harness URL must parse");
  check_header_block(request, *url);
  return 0;
}
