// What the kube tests share: a temporary directory that files are written
// into, environment variables set for one test and restored after it, and
// the real kubectl writing kubeconfig files (`kubectl config ...`).
#pragma once

#include "support/peer_skip.hpp"
#include "support/run_shell.hpp"

#include <rebound/credentials.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace rebound::kube::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rebound-kube-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  /// Writes `content` to <dir>/<name> (directories created); returns the path.
  std::string write(const std::string& name, const std::string& content, bool executable = false) const {
    const std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    if (executable) ::chmod(p.c_str(), 0755);
    return p;
  }

 private:
  std::string path_;
};

/// Sets (or unsets, with nullopt) variables for a test; restores them after.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old)
        ::setenv(name.c_str(), old->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }
  void set(const std::string& name, const std::optional<std::string>& value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

/// The kubectl on PATH, or "" when there is none.
inline std::string kubectl_path() {
  auto r = rebound::testing::run_shell("command -v kubectl 2>/dev/null");
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r.exit_code == 0 ? r.out : std::string();
}

/// Runs `kubectl config --kubeconfig <file> <args>` (from `cwd`); returns
/// its combined output and fails the test when kubectl fails.
inline std::string kubectl_config(const std::string& file, const std::string& args, const std::string& cwd = "/") {
  const auto r = rebound::testing::run_shell("cd '" + cwd + "' && '" + kubectl_path() + "' config --kubeconfig '" +
                                             file + "' " + args + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << "kubectl config " << args << ":\n" << r.out;
  return r.out;
}

/// source.fetch() waited for (at most `within`); a fetch that never
/// completes fails the test.
inline Result<Credential> fetch_now(CredentialSource& source, const std::optional<Credential>& rejected = std::nullopt,
                                    std::chrono::milliseconds within = std::chrono::seconds(10)) {
  auto promise = std::make_shared<std::promise<Result<Credential>>>();
  auto future = promise->get_future();
  source.fetch(rejected, [promise](Result<Credential> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(within) != std::future_status::ready) {
    ADD_FAILURE() << "fetch did not complete within " << within.count() << " ms";
    return Error(errc::deadline_exceeded, "test: fetch did not complete");
  }
  return future.get();
}

/// The authorization header of a credential ("" when it has none).
inline std::string authorization(const Result<Credential>& c) {
  if (!c) return "error: " + c.error().message();
  for (const auto& [name, value] : c->headers)
    if (name == "authorization") return value;
  return "";
}

/// The file's whole content ("" when unreadable).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace rebound::kube::testing

/// Skips (or, with REBOUND_REQUIRE_PEERS=1, fails) a test when kubectl is missing.
#define REBOUND_REQUIRE_KUBECTL()                                                        \
  do {                                                                                   \
    if (::rebound::kube::testing::kubectl_path().empty())                                \
      REBOUND_SKIP_FOR_PEER("kubectl is not installed (setup.sh installs kubernetes-client)"); \
  } while (0)
