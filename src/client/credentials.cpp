// The credential sources every HTTP client needs: a static bearer token,
// basic auth, and a bearer token kept in a file that is rotated under us
// (a Kubernetes service-account token).
#include <rebound/credentials.hpp>

#include <openssl/evp.h>

#include <fstream>
#include <mutex>
#include <sstream>

namespace rebound {

CredentialSource::~CredentialSource() = default;

namespace credentials {
namespace {

Credential authorization(std::string value) {
  return Credential{{{"authorization", std::move(value)}}};
}

class FixedSource final : public CredentialSource {
 public:
  explicit FixedSource(Credential c) : credential_(std::move(c)) {}
  void fetch(const std::optional<Credential>&, std::function<void(Result<Credential>)> done) override {
    done(credential_);
  }

 private:
  const Credential credential_;
};

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string trimmed(std::string s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && blank(s[i])) ++i;
  return s.substr(i);
}

// Re-reads on age or on a rejection, under a lock: reading a small file is
// quick enough for an I/O thread, and the lock makes a burst of 401s read it
// once (the first refreshes; the others see a credential they did not send).
class TokenFileSource final : public CredentialSource {
 public:
  TokenFileSource(std::string path, std::chrono::seconds reread_every)
      : path_(std::move(path)), reread_every_(reread_every) {}

  void fetch(const std::optional<Credential>& rejected, std::function<void(Result<Credential>)> done) override {
    Result<Credential> result = current(rejected);
    done(std::move(result));
  }

 private:
  Result<Credential> current(const std::optional<Credential>& rejected) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const bool stale = !token_ || now - read_at_ >= reread_every_ || (rejected && *rejected == *token_);
    if (stale) {
      std::string why;
      if (std::optional<std::string> t = read(why)) {
        token_ = authorization("Bearer " + *t);
        read_at_ = now;
      } else if (!token_) {
        return Error(errc::credentials_failed, "bearer token file \"" + path_ + "\": " + why);
      }
      // else: keep the last token (a rotation writes the file anew; a
      // moment without it must not fail requests that worked a second ago).
    }
    return *token_;
  }

  std::optional<std::string> read(std::string& why) const {
    std::ifstream in(path_);
    if (!in) {
      why = "cannot be read";
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = trimmed(ss.str());
    if (t.empty()) {
      why = "is empty";
      return std::nullopt;
    }
    return t;
  }

  const std::string path_;
  const std::chrono::seconds reread_every_;
  std::mutex mutex_;
  std::optional<Credential> token_;
  std::chrono::steady_clock::time_point read_at_;
};

}  // namespace

std::shared_ptr<CredentialSource> bearer(std::string token) {
  return std::make_shared<FixedSource>(authorization("Bearer " + std::move(token)));
}

std::shared_ptr<CredentialSource> basic(std::string user, std::string password) {
  return std::make_shared<FixedSource>(authorization("Basic " + base64(user + ":" + password)));
}

std::shared_ptr<CredentialSource> bearer_file(std::string path, std::chrono::seconds reread_every) {
  return std::make_shared<TokenFileSource>(std::move(path), reread_every);
}

}  // namespace credentials
}  // namespace rebound
