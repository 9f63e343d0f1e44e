// Request::body_file and body_replayable_source against the embedded
// server: a file upload whose first attempt is reset after the server read
// it is retried and sends the same bytes again; a 307 resends it too.
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

// A file of pseudo-random bytes in a fresh temporary directory, removed after.
struct UploadFile {
  explicit UploadFile(std::size_t size) {
    dir = std::filesystem::temp_directory_path() / ("rebound-upload-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    path = (dir / "upload.bin").string();
    std::mt19937 gen(42);
    contents.resize(size);
    for (auto& c : contents) c = static_cast<char>(gen());
    std::ofstream(path, std::ios::binary).write(contents.data(), static_cast<std::streamsize>(contents.size()));
  }
  ~UploadFile() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::string path;
  std::string contents;
};

class BodyFile : public ::testing::TestWithParam<HttpVersion> {
 protected:
  void SetUp() override {
    s = start_server();
    s->route("/store", [this](const server::ServerRequest& r) {
      std::lock_guard lock(mutex);
      stored.push_back(r.body);
      server::ServerResponse out;
      out.body = std::to_string(r.body.size());
      return out;
    });
  }
  std::vector<std::string> all_stored() {
    std::lock_guard lock(mutex);
    return stored;
  }
  Options options() {
    Options o;
    o.http_version = GetParam();
    o.request_timeout = 10s;
    return o;
  }
  std::unique_ptr<server::Server> s;
  std::mutex mutex;
  std::vector<std::string> stored;
};

TEST_P(BodyFile, AnUploadFromAFileIsRetriedWithTheSameBytes) {
  UploadFile file(3 << 20);
  s->drop_next_requests(1);  // the first attempt is read whole, then its connection reset
  CheckedClient client(options());
  auto r = client.send(Request("PUT", s->url() + "/store").body_file(file.path));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->attempts(), 2);
  EXPECT_EQ(r->body(), std::to_string(file.contents.size()));
  auto got = all_stored();
  ASSERT_EQ(got.size(), 2u);  // the dropped attempt ran its handler too
  EXPECT_TRUE(got[0] == file.contents) << "the first attempt sent other bytes";
  EXPECT_TRUE(got[1] == file.contents) << "the retry sent other bytes";
}

TEST_P(BodyFile, A307ResendsTheFileFromItsStart) {
  UploadFile file(1 << 20);
  s->route("/moved", [](const server::ServerRequest&) {
    server::ServerResponse out;
    out.status = 307;
    out.headers.emplace_back("location", "/store");
    return out;
  });
  Options o = options();
  o.redirects = RedirectPolicy::follow();
  CheckedClient client(o);
  auto r = client.send(Request("POST", s->url() + "/moved").body_file(file.path));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->redirects(), 1);
  auto got = all_stored();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0] == file.contents);
}

TEST_P(BodyFile, AMissingFileFailsTheRequestNamingIt) {
  CheckedClient client(options());
  auto r = client.send(Request("PUT", s->url() + "/store").body_file("/nonexistent/rebound-upload"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::callback_threw) << r.error().message();
  EXPECT_NE(r.error().message().find("/nonexistent/rebound-upload"), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(BothProtocols, BodyFile,
                         ::testing::Values(HttpVersion::http1_only, HttpVersion::http2_prior_knowledge),
                         [](const auto& info) { return info.param == HttpVersion::http1_only ? "Http1" : "H2c"; });

}  // namespace
}  // namespace rebound::testing
