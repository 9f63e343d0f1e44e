// The Lease API test fixture: a TLS (h2) server with the Lease API on a store
// kept in memory or in a file - the test's parameter, so each rule of the API
// is shown to hold for both - a client, and helpers to send a request and to
// check a Kubernetes Status answer.
#pragma once

#include "lease/lease_fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

namespace rebound::lease::testing {

/// Where the store under test keeps its leases.
enum class Backing { memory, file };

inline std::string backing_name(const ::testing::TestParamInfo<Backing>& info) {
  return info.param == Backing::memory ? "InMemory" : "Persisted";
}

/// A fresh directory under /tmp, removed with everything in it.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/rebound-lease-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

struct Answer {
  int status = 0;
  boost::json::value body;
  std::string protocol;
};

/// A Lease object to create or write, as JSON text.
inline std::string lease_body(const std::string& name, const std::string& holder, const std::string& rv = {}) {
  Lease l;
  l.metadata.name = name;
  l.metadata.resource_version = rv;
  l.spec.holder_identity = holder;
  l.spec.lease_duration_seconds = 15;
  l.spec.renew_time = now_micro();
  return boost::json::serialize(to_json(l));
}

/// The server, store and client of one test; backing() says where the store
/// keeps its leases (a file in a directory of the test's own).
class LeaseApiFixture : public ::testing::Test {
 protected:
  virtual Backing backing() const = 0;

  void SetUp() override { start(store_options()); }

  /// The options of this test's store: its file when persisted.
  LeaseStoreOptions store_options() const {
    LeaseStoreOptions o;
    if (backing() == Backing::file) o.persist_path = file;
    return o;
  }

  /// Replaces the server, store and client (the old ones go first: a file is
  /// held by one store at a time).
  void start(LeaseStoreOptions options) {
    stop();
    server_ = start_tls_server();
    store_ = install_lease_api(*server_, std::move(options));
    client_ = std::make_unique<Client>(trusting(*server_));
  }

  /// A restart: nothing of the old server or store is kept but the file.
  void restart() { start(store_options()); }

  void stop() {
    client_.reset();
    server_.reset();  // its route held the store too
    store_.reset();
  }

  Answer call(std::string method, const std::string& path, std::string body = {}, std::string token = {}) {
    Request r(std::move(method), server_->url() + path);
    if (!body.empty()) r.body(std::move(body)).header("content-type", "application/json");
    if (!token.empty()) r.header("authorization", "Bearer " + token);
    auto res = client_->send(std::move(r));
    EXPECT_TRUE(res) << res.error().message();
    if (!res) return {};
    Answer a;
    a.status = res->status();
    a.protocol = to_string(res->protocol());
    boost::system::error_code ec;
    a.body = boost::json::parse(res->body(), ec);
    EXPECT_FALSE(ec) << "not JSON: " << res->body();
    return a;
  }

  static std::string rv_of(const Answer& a) {
    return std::string(a.body.at("metadata").at("resourceVersion").as_string());
  }

  static std::string message_of(const Answer& a) { return std::string(a.body.at("message").as_string()); }

  static void expect_status(const Answer& a, int code, const char* reason) {
    EXPECT_EQ(a.status, code);
    ASSERT_TRUE(a.body.is_object());
    EXPECT_EQ(a.body.at("kind"), "Status");
    EXPECT_EQ(a.body.at("apiVersion"), "v1");
    EXPECT_EQ(a.body.at("status"), "Failure");
    EXPECT_EQ(a.body.at("reason"), reason);
    EXPECT_EQ(a.body.at("code"), code);
  }

  TempDir dir;
  const std::string file = dir.path + "/leases.json";
  const std::string coll = leases_path("default");
  const std::string item = lease_path("default", "lock");
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<LeaseStore> store_;
  std::unique_ptr<Client> client_;
};

/// Rules that hold whichever way the store keeps its leases.
class LeaseApiTest : public LeaseApiFixture, public ::testing::WithParamInterface<Backing> {
 protected:
  Backing backing() const override { return GetParam(); }
};

/// Rules of a persisted store.
class LeaseFileTest : public LeaseApiFixture {
 protected:
  Backing backing() const override { return Backing::file; }
};

}  // namespace rebound::lease::testing
