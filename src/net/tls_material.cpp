// Loads CAs, the client certificate chain and its key into a new OpenSSL
// context; every failure is a tls_configuration error naming what and why.
#include "net/tls_material.hpp"

#include <rebound/error.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace rebound::net {
namespace {

namespace asio = boost::asio;

[[noreturn]] void fail(const std::string& what) { throw Exception(Error(errc::tls_configuration, what)); }

// A named PEM input: from a file (read here, so a missing file is reported
// as such and not as a parse error) or from memory.
struct Pem {
  std::string text;
  std::string name;  // "client certificate \"/path\"" or "client certificate (in memory)"
};

std::optional<Pem> pem_input(const std::string& file, const std::string& memory, const std::string& what) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) fail("cannot read " + what + " \"" + file + "\": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    return Pem{ss.str(), what + " \"" + file + "\""};
  }
  if (!memory.empty()) return Pem{memory, what + " (in memory)"};
  return std::nullopt;
}

std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "not valid PEM";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Never prompts on a terminal for a pass phrase: an encrypted key is an error.
int no_pass_phrase(char*, int, int, void*) { return 0; }

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

void load_cas(asio::ssl::context& ctx, const Pem& ca) {
  if (ca.text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    fail(ca.name + " holds no PEM certificate");
  boost::system::error_code ec;
  ctx.add_certificate_authority(asio::buffer(ca.text), ec);
  if (ec) fail("cannot load " + ca.name + ": " + ec.message());
}

void load_client_identity(asio::ssl::context& ctx, const Pem& cert, const Pem& key) {
  if (cert.text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    fail(cert.name + " holds no PEM certificate");
  boost::system::error_code ec;
  ctx.use_certificate_chain(asio::buffer(cert.text), ec);
  if (ec) fail("cannot load " + cert.name + ": " + ec.message());

  if (key.text.find("ENCRYPTED") != std::string::npos)
    fail(key.name + " is encrypted; rebound needs an unencrypted key (openssl pkey -in KEY -out PLAIN)");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(key.text.data(), static_cast<int>(key.text.size())),
                                               &BIO_free);
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_pass_phrase, nullptr));
  if (!pkey) fail(key.name + " holds no usable PEM private key: " + openssl_reason());
  X509* leaf = SSL_CTX_get0_certificate(ctx.native_handle());
  if (!leaf || X509_check_private_key(leaf, pkey.get()) != 1) {
    ERR_clear_error();
    fail(key.name + " does not match " + cert.name);
  }
  if (SSL_CTX_use_PrivateKey(ctx.native_handle(), pkey.get()) != 1)
    fail("cannot use " + key.name + ": " + openssl_reason());
}

}  // namespace

std::shared_ptr<TlsMaterial> load_tls_material(const TlsOptions& tls) {
  auto m = std::make_shared<TlsMaterial>(asio::ssl::context(asio::ssl::context::tls_client));
  auto& ctx = m->context;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_default_passwd_cb(ctx.native_handle(), &no_pass_phrase);

  const auto ca_file = pem_input(tls.ca_file, "", "CA file");
  const auto ca_memory = pem_input("", tls.ca_pem, "CA bundle");
  if (ca_file) load_cas(ctx, *ca_file);
  if (ca_memory) load_cas(ctx, *ca_memory);
  m->needs_system_store = tls.verify_peer && !ca_file && !ca_memory;

  if (!tls.cert_file.empty() && !tls.cert_pem.empty()) fail("a client certificate is given twice (cert_file and cert_pem)");
  if (!tls.key_file.empty() && !tls.key_pem.empty()) fail("a client key is given twice (key_file and key_pem)");
  const auto cert = pem_input(tls.cert_file, tls.cert_pem, "client certificate");
  const auto key = pem_input(tls.key_file, tls.key_pem, "client key");
  if (cert && !key) fail(cert->name + " is given without its key (key_file or key_pem)");
  if (key && !cert) fail(key->name + " is given without its certificate (cert_file or cert_pem)");
  if (cert) load_client_identity(ctx, *cert, *key);
  return m;
}

std::vector<FileStamp> stamp_tls_files(const TlsOptions& tls) {
  std::vector<FileStamp> stamps;
  for (const std::string* path : {&tls.ca_file, &tls.cert_file, &tls.key_file}) {
    if (path->empty()) continue;
    FileStamp s{*path};
    struct stat st {};
    if (::stat(path->c_str(), &st) == 0) {
      s.exists = true;
      s.inode = st.st_ino;
      s.size = st.st_size;
      s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
    }
    stamps.push_back(std::move(s));
  }
  return stamps;
}

}  // namespace rebound::net
