// `rebound get`'s curl-like flags, run as a process against the embedded
// server in this test: -L with --max-redirs, -o, -w, --compressed (zstd),
// -T and -d @file uploads retried with --retry, -u.
#include "cli/run_command.hpp"
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

Finished rebound_get(std::vector<std::string> args) {
  args.insert(args.begin(), "get");
  return run_command(REBOUND_CLI_PATH, args, 20s);
}

struct GetFlagsScratch {
  GetFlagsScratch() {
    dir = std::filesystem::temp_directory_path() /
          ("rebound-get-flags-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
  }
  ~GetFlagsScratch() { std::filesystem::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
  std::filesystem::path dir;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class GetFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    s = start_server();
    s->route("/old", [](const server::ServerRequest&) {
      server::ServerResponse r;
      r.status = 301;
      r.headers.emplace_back("location", "/new");
      return r;
    });
    s->route("/older", [](const server::ServerRequest&) {
      server::ServerResponse r;
      r.status = 308;
      r.headers.emplace_back("location", "/old");
      return r;
    });
    s->route("/new", [](const server::ServerRequest&) {
      server::ServerResponse r;
      r.body = "arrived";
      return r;
    });
    s->route("/zstd", [this](const server::ServerRequest&) {
      server::ServerResponse r;
      std::string z(ZSTD_compressBound(text.size()), '\0');
      z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
      r.headers.emplace_back("content-encoding", "zstd");
      r.body = std::move(z);
      return r;
    });
    s->route("/store", [this](const server::ServerRequest& r) {
      std::lock_guard lock(mutex);
      stored.push_back(r);
      return server::ServerResponse{};
    });
  }
  std::vector<server::ServerRequest> all_stored() {
    std::lock_guard lock(mutex);
    return stored;
  }
  const std::string text = [] {
    std::string t(100'000, 'z');
    t += "end";
    return t;
  }();
  std::unique_ptr<server::Server> s;
  std::mutex mutex;
  std::vector<server::ServerRequest> stored;
  GetFlagsScratch scratch;
};

TEST_F(GetFlags, DashLFollowsTheRedirectAndDashWReportsTheFinalUrl) {
  const auto out = scratch.file("body");
  auto r = rebound_get({"-L", "-o", out, "-w", "%{http_code} %{url_effective} %{num_connects} %{remote_ip}\\n",
                        s->url() + "/old"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 " + s->url() + "/new 1 127.0.0.1\n");
  EXPECT_EQ(read_all(out), "arrived");
  auto plain = rebound_get({"-w", "%{http_code}", "-o", out, s->url() + "/old"});
  EXPECT_EQ(plain.out, "301");
  auto capped = rebound_get({"-L", "--max-redirs", "1", s->url() + "/older"});
  EXPECT_NE(capped.exit_code, 0);
  EXPECT_NE(capped.err.find("too many redirects"), std::string::npos) << capped.err;
}

TEST_F(GetFlags, CompressedDecodesAZstdBody) {
  auto r = rebound_get({"--compressed", s->url() + "/zstd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == text);
}

TEST_F(GetFlags, UploadsFromAFileAreRetriedWithTheSameBytes) {
  const auto path = scratch.file("upload.bin");
  std::string bytes(1 << 20, '\0');
  std::mt19937 gen(7);
  for (auto& c : bytes) c = static_cast<char>(gen());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  s->drop_next_requests(1);
  auto r = rebound_get({"-T", path, "--retry", "1", "-u", "alice:secret", s->url() + "/store"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = all_stored();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& req : got) {
    EXPECT_EQ(req.method, "PUT");
    EXPECT_TRUE(req.body == bytes);
    EXPECT_EQ(req.header("authorization"), "Basic YWxpY2U6c2VjcmV0");
  }
  // -d @file: a POST of the file's bytes as they are; --retry 0: no second attempt.
  s->drop_next_requests(1);
  auto once = rebound_get({"-d", "@" + path, "--retry", "0", s->url() + "/store"});
  EXPECT_NE(once.exit_code, 0);
  auto after = all_stored();
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].method, "POST");
  EXPECT_TRUE(after[2].body == bytes);
}

}  // namespace
}  // namespace rebound::testing
