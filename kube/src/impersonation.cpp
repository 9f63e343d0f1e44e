// Impersonating credential source: see impersonation.hpp.
#include "impersonation.hpp"

#include <algorithm>
#include <cstdio>

namespace rebound::kube::detail {
namespace {

// A header name carries RFC 9110 token characters; anything else in an
// extra's key is percent-encoded, as client-go does.
std::string header_key(const std::string& key) {
  static const std::string token = "!#$&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  for (const unsigned char c : key) {
    if (token.find(static_cast<char>(c)) != std::string::npos) {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

bool is_impersonation(const std::string& name) { return name.rfind("impersonate-", 0) == 0; }

class ImpersonatingSource : public rebound::CredentialSource {
 public:
  ImpersonatingSource(std::shared_ptr<rebound::CredentialSource> inner, const Impersonation& who)
      : inner_(std::move(inner)), fields_(impersonation_headers(who)) {}

  void fetch(const std::optional<rebound::Credential>& rejected,
             std::function<void(rebound::Result<rebound::Credential>)> done) override {
    if (!inner_) return done(rebound::Credential{fields_});
    std::optional<rebound::Credential> own;
    if (rejected) {
      own.emplace(*rejected);
      std::erase_if(own->headers, [](const auto& h) { return is_impersonation(h.first); });
    }
    inner_->fetch(own, [fields = fields_, done = std::move(done)](rebound::Result<rebound::Credential> r) {
      if (!r) return done(std::move(r));
      rebound::Credential c = std::move(*r);
      c.headers.insert(c.headers.end(), fields.begin(), fields.end());
      done(std::move(c));
    });
  }

 private:
  const std::shared_ptr<rebound::CredentialSource> inner_;
  const std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> impersonation_headers(const Impersonation& who) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!who.user.empty()) out.emplace_back("impersonate-user", who.user);
  if (!who.uid.empty()) out.emplace_back("impersonate-uid", who.uid);
  for (const auto& g : who.groups) out.emplace_back("impersonate-group", g);
  for (const auto& [key, values] : who.extra)
    for (const auto& v : values) out.emplace_back("impersonate-extra-" + header_key(key), v);
  return out;
}

std::shared_ptr<rebound::CredentialSource> impersonating(std::shared_ptr<rebound::CredentialSource> inner,
                                                         const Impersonation& who) {
  return std::make_shared<ImpersonatingSource>(std::move(inner), who);
}

}  // namespace rebound::kube::detail
