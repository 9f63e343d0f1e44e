// CertificateStore: see certificate_store.hpp.
#include "certificate_store.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "self_signed_cert.hpp"

namespace rebound::server::detail {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

/// Writes `content` to a new file in the temp directory; returns its path.
std::string write_temp_file(const std::string& content) {
  std::string path = (std::filesystem::temp_directory_path() / "rebound-server-XXXXXX.pem").string();
  const int fd = ::mkstemps(path.data(), 4);
  if (fd < 0) throw std::runtime_error("cannot create a temporary certificate file");
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n <= 0) {
      ::close(fd);
      std::remove(path.c_str());
      throw std::runtime_error("cannot write " + path);
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return path;
}

}  // namespace

std::unique_ptr<CertificateStore> CertificateStore::from_options(const ServerOptions& options) {
  std::unique_ptr<CertificateStore> store(new CertificateStore());
  if (!options.cert_file.empty()) {
    store->certificate_ = read_file(options.cert_file);
    store->private_key_ = read_file(options.key_file.empty() ? options.cert_file : options.key_file);
    store->file_ = options.cert_file;
    return store;
  }
  PemPair generated = generate_self_signed_certificate();
  store->certificate_ = std::move(generated.certificate);
  store->private_key_ = std::move(generated.private_key);
  store->file_ = write_temp_file(store->certificate_);
  store->owns_file_ = true;
  return store;
}

CertificateStore::~CertificateStore() {
  if (owns_file_) std::remove(file_.c_str());
}

}  // namespace rebound::server::detail
