// RestConfig onto rebound::Options (TLS, credentials scoped to the
// server's origin), and URLs on the server.
#include "kube/kube_fixtures.hpp"

#include <rebound/kube/rest_config.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;

TEST(RestConfigApply, SetsTlsAndCredentialsForTheServerOnly) {
  RestConfig cfg;
  cfg.server = "https://127.0.0.1:6443";
  cfg.tls.ca_pem = "CA";
  cfg.tls.cert_file = "/c.crt";
  cfg.credentials = credentials::bearer("t");
  Options o;
  o.request_timeout = std::chrono::seconds(7);
  cfg.apply_to(o);
  EXPECT_EQ(o.tls.ca_pem, "CA");
  EXPECT_EQ(o.tls.cert_file, "/c.crt");
  EXPECT_EQ(o.credentials.source, cfg.credentials);
  EXPECT_EQ(o.credentials.origin, "https://127.0.0.1:6443");
  EXPECT_EQ(o.request_timeout, std::chrono::seconds(7)) << "other options are left alone";

  o.credentials.origin = "https://elsewhere";
  cfg.credentials = nullptr;
  cfg.apply_to(o);
  EXPECT_EQ(o.credentials.source, nullptr);
  EXPECT_EQ(o.credentials.origin, "") << "no stale origin from before";
}

TEST(RestConfigUrl, PathsJoinTheServerAndItsPrefixFullUrlsStay) {
  RestConfig cfg;
  cfg.server = "https://127.0.0.1:6443";
  EXPECT_EQ(cfg.url("/api/v1/pods"), "https://127.0.0.1:6443/api/v1/pods");
  EXPECT_EQ(cfg.url("api/v1/pods"), "https://127.0.0.1:6443/api/v1/pods");
  EXPECT_EQ(cfg.url("https://other:1/x"), "https://other:1/x");
  cfg.server = "https://lb.local/k8s";
  EXPECT_EQ(cfg.url("/apis?watch=1"), "https://lb.local/k8s/apis?watch=1");
}
