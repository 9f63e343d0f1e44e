// The TLS material a Client is given is checked when the Client is made:
// every way a CA, client certificate or key can be unusable is a
// tls_configuration error that names the file and the reason, and the
// usable forms (files, memory, a chain with its intermediate) are accepted.
#include "support/test_pki.hpp"

#include <rebound/client.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace rebound;
using namespace rebound::testing;

namespace {

// The message of the Exception making a Client with `tls` throws, or "" when it does not throw.
std::string construction_error(const TlsOptions& tls) {
  Options o;
  o.tls = tls;
  try {
    Client c(o);
  } catch (const Exception& e) {
    EXPECT_EQ(e.error(), errc::tls_configuration) << e.error().message();
    return e.error().message();
  }
  return "";
}

TlsOptions files(std::string ca, std::string cert = "", std::string key = "") {
  TlsOptions t;
  t.ca_file = std::move(ca);
  t.cert_file = std::move(cert);
  t.key_file = std::move(key);
  return t;
}

TlsOptions in_memory(std::string ca, std::string cert = "", std::string key = "") {
  TlsOptions t;
  t.ca_pem = std::move(ca);
  t.cert_pem = std::move(cert);
  t.key_pem = std::move(key);
  return t;
}

void expect_mentions(const std::string& message, std::initializer_list<std::string> parts) {
  ASSERT_FALSE(message.empty()) << "the Client accepted unusable material";
  for (const auto& p : parts) EXPECT_NE(message.find(p), std::string::npos) << "\"" << p << "\" not in: " << message;
}

}  // namespace

TEST(TlsMaterial, AClientCertificateAndKeyFromFilesOrMemoryAreAccepted) {
  TestPki pki;
  const auto alice = pki.issue_client("alice", "alice");
  EXPECT_EQ(construction_error(files(pki.ca_file(), alice.cert, alice.key)), "");
  EXPECT_EQ(construction_error(in_memory(read_file(pki.ca_file()), read_file(alice.cert), read_file(alice.key))),
            "");
  const auto bob = pki.issue_client("bob", "bob", /*via_intermediate=*/true);
  EXPECT_EQ(construction_error(files("", bob.cert, bob.key)), "");
}

TEST(TlsMaterial, AMissingFileIsNamed) {
  TestPki pki;
  const auto alice = pki.issue_client("alice", "alice");
  expect_mentions(construction_error(files("", "/nonexistent/c.pem", alice.key)),
                  {"client certificate", "/nonexistent/c.pem", "No such file"});
  expect_mentions(construction_error(files("", alice.cert, "/nonexistent/k.pem")),
                  {"client key", "/nonexistent/k.pem"});
  expect_mentions(construction_error(files("/nonexistent/ca.pem")), {"CA file", "/nonexistent/ca.pem"});
}

TEST(TlsMaterial, ACertificateWithoutItsKeyOrTheReverseIsRefused) {
  TestPki pki;
  const auto alice = pki.issue_client("alice", "alice");
  expect_mentions(construction_error(files("", alice.cert)), {alice.cert, "without its key"});
  expect_mentions(construction_error(files("", "", alice.key)), {alice.key, "without its certificate"});
}

TEST(TlsMaterial, AKeyThatDoesNotMatchTheCertificateIsRefused) {
  TestPki pki;
  const auto alice = pki.issue_client("alice", "alice");
  const auto bob = pki.issue_client("bob", "bob");
  expect_mentions(construction_error(files("", alice.cert, bob.key)),
                  {bob.key, "does not match", alice.cert});
}

TEST(TlsMaterial, AnEncryptedKeyIsRefusedWithoutAskingForAPassPhrase) {
  TestPki pki;
  const auto alice = pki.issue_client("alice", "alice");
  const auto locked = pki.encrypt_key(alice, "alice-locked");
  expect_mentions(construction_error(files("", alice.cert, locked)), {locked, "encrypted"});
}

TEST(TlsMaterial, FilesThatAreNotPemAreRefused) {
  TestPki pki;
  const auto alice = pki.issue_client("alice", "alice");
  const auto junk = pki.path("junk.pem");
  std::ofstream(junk) << "this is not PEM\n";
  expect_mentions(construction_error(files("", junk, alice.key)), {junk, "no PEM certificate"});
  expect_mentions(construction_error(files("", alice.cert, junk)), {junk, "no usable PEM private key"});
  expect_mentions(construction_error(files(junk)), {junk, "no PEM certificate"});
  expect_mentions(construction_error(in_memory("garbage")), {"CA bundle (in memory)"});
}
