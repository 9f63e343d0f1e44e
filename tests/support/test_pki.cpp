// TestPki: certificates made by the openssl command in a temporary directory.
#include "support/test_pki.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace rebound::testing {
namespace {

std::atomic<int> next_pki{0};

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("test PKI: command failed: " + command);
}

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TestPki::TestPki(const std::string& ca_name)
    : dir_(std::filesystem::temp_directory_path() /
           ("rebound-pki-" + std::to_string(::getpid()) + "-" + std::to_string(next_pki++))) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj '/CN=" + ca_name +
      "' -keyout " + q(dir_ / "ca.key") + " -out " + q(dir_ / "ca.pem"));
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

TestPki::Issued TestPki::issue_client(const std::string& name, const std::string& cn, bool via_intermediate) {
  return issue_leaf(name, cn, "extendedKeyUsage=clientAuth\n", via_intermediate);
}

TestPki::Issued TestPki::issue_server(const std::string& name, const std::vector<std::string>& dns_names) {
  std::string san = "subjectAltName=";
  for (std::size_t i = 0; i < dns_names.size(); ++i) {
    // A dotted-quad is an IP address entry (servers reached as 127.0.0.1).
    const bool ip = dns_names[i].find_first_not_of("0123456789.") == std::string::npos;
    san += std::string(i ? "," : "") + (ip ? "IP:" : "DNS:") + dns_names[i];
  }
  return issue_leaf(name, dns_names.at(0), san + "\nextendedKeyUsage=serverAuth\n", false);
}

TestPki::Issued TestPki::issue_leaf(const std::string& name, const std::string& cn, const std::string& extensions,
                                    bool via_intermediate) {
  std::filesystem::path signer_cert = dir_ / "ca.pem", signer_key = dir_ / "ca.key";
  const auto ext = dir_ / (name + ".ext");
  if (via_intermediate) {
    std::ofstream(ext) << "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=" + name +
        "-intermediate' -keyout " + q(dir_ / (name + "-int.key")) + " -out " + q(dir_ / (name + "-int.csr")));
    run("openssl x509 -req -days 2 -set_serial 0x" + std::to_string(1000 + next_pki++) + " -in " +
        q(dir_ / (name + "-int.csr")) + " -CA " + q(signer_cert) + " -CAkey " + q(signer_key) + " -extfile " +
        q(ext) + " -out " + q(dir_ / (name + "-int.pem")));
    signer_cert = dir_ / (name + "-int.pem");
    signer_key = dir_ / (name + "-int.key");
  }
  std::ofstream(ext) << extensions;
  const auto key = dir_ / (name + ".key"), csr = dir_ / (name + ".csr"), leaf = dir_ / (name + "-leaf.pem");
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=" + cn + "' -keyout " + q(key) +
      " -out " + q(csr));
  run("openssl x509 -req -days 2 -set_serial 0x" + std::to_string(2000 + next_pki++) + " -in " + q(csr) + " -CA " +
      q(signer_cert) + " -CAkey " + q(signer_key) + " -extfile " + q(ext) + " -out " + q(leaf));
  const auto chain = dir_ / (name + ".pem");
  std::ofstream(chain) << read_file(leaf.string()) << (via_intermediate ? read_file(signer_cert.string()) : "");
  return {chain.string(), key.string()};
}

std::string TestPki::encrypt_key(const Issued& issued, const std::string& name) {
  const auto out = dir_ / (name + ".key");
  run("openssl pkey -in " + q(issued.key) + " -aes256 -passout pass:secret -out " + q(out));
  return out.string();
}

}  // namespace rebound::testing
