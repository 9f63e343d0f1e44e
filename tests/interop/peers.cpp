#include "interop/peers.hpp"

#include <rebound/server/server.hpp>

#include <cstdio>
#include <random>
#include <sstream>
#include <unistd.h>

namespace rebound::interop {

namespace {

using namespace std::chrono_literals;

constexpr auto start_deadline = 15s;
constexpr int start_attempts = 3;
constexpr const char* echo_module = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

// How to run one server: its argv, the logs worth showing, what it can do.
struct Launch {
  std::vector<std::string> argv;
  std::vector<std::filesystem::path> logs;
  PeerTraits traits;
};

bool running_as_root() { return ::geteuid() == 0; }

// The first line `cmd` prints (stdout and stderr), or "" when it cannot run.
std::string output_of(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    ::pclose(p);
  }
  return out;
}

// nghttpd: a docroot server for HTTP/2 only (TLS or h2c). --echo-upload
// answers every POST/PUT with its body, so a POST to a file echoes too.
// It has no way to answer 204 and never sends an ETag.
Launch nghttpd_launch(const std::string& bin, const TempDir& dir, Transport t, std::uint16_t port) {
  Launch l;
  l.argv = {bin, "--echo-upload", "-a", "127.0.0.1", "-d", dir.file("htdocs")};
  if (t == Transport::h2c) {
    l.argv.push_back("--no-tls");
    l.argv.push_back(std::to_string(port));
  } else {
    l.argv.push_back(std::to_string(port));
    l.argv.push_back(dir.file("key.pem"));
    l.argv.push_back(dir.file("cert.pem"));
  }
  l.logs = {dir.file("server.log")};
  l.traits.echo_path = "/echo";
  l.traits.no_no_content_reason = "nghttpd serves files only and has no way to answer 204";
  l.traits.post_to_file_status = 200;
  l.traits.post_to_file_echoes = true;
  l.traits.offers_http1_over_tls = false;
  l.traits.sends_etag = false;
  return l;
}

// h2o: static files from file.dir; /echo and /204 are tiny mruby handlers
// when this h2o has mruby. OCSP stapling is off (it would fork a fetcher).
Launch h2o_launch(const std::string& bin, const TempDir& dir, Transport t, std::uint16_t port) {
  Launch l;
  const bool mruby = output_of(bin + " --version").find("mruby: YES") != std::string::npos;
  std::ostringstream c;
  if (running_as_root()) c << "user: root\n";  // else h2o drops to nobody, who cannot read dir
  c << "pid-file: " << dir.file("h2o.pid") << "\n"
    << "error-log: " << dir.file("error.log") << "\n"
    << "access-log: " << dir.file("access.log") << "\n"
    << "num-threads: 1\n"
    << "hosts:\n"
    << "  default:\n"
    << "    listen:\n"
    << "      host: 127.0.0.1\n"
    << "      port: " << port << "\n";
  if (t == Transport::tls)
    c << "      ssl:\n"
      << "        certificate-file: " << dir.file("cert.pem") << "\n"
      << "        key-file: " << dir.file("key.pem") << "\n"
      << "        ocsp-update-interval: 0\n";
  c << "    paths:\n";
  if (mruby)
    c << "      /echo:\n"
      << "        mruby.handler: |\n"
      << "          Proc.new do |env|\n"
      << "            body = env['rack.input'] ? env['rack.input'].read : ''\n"
      << "            [200, {'content-type' => 'application/octet-stream'}, [body]]\n"
      << "          end\n"
      << "      /204:\n"
      << "        mruby.handler: |\n"
      << "          Proc.new do |env|\n"
      << "            [204, {}, []]\n"
      << "          end\n";
  c << "      /:\n"
    << "        file.dir: " << dir.file("htdocs") << "\n";
  write_file(dir.path() / "h2o.conf", c.str());

  l.argv = {bin, "-c", dir.file("h2o.conf")};
  l.logs = {dir.file("server.log"), dir.file("error.log")};
  if (mruby) {
    l.traits.echo_path = "/echo";
    l.traits.no_content_path = "/204";
  } else {
    l.traits.no_echo_reason = l.traits.no_no_content_reason = "this h2o has no mruby (h2o --version)";
  }
  return l;
}

// nginx: unprivileged-style prefix in dir, foreground, one worker. /204 is
// `return 204`; /echo uses the echo module (libnginx-mod-http-echo, which
// Debian 12's nginx-light depends on) when it is installed.
Launch nginx_launch(const std::string& bin, const TempDir& dir, Transport t, std::uint16_t port,
                    const PeerOptions& options) {
  Launch l;
  const bool echo = ::access(echo_module, R_OK) == 0;
  std::ostringstream c;
  if (echo) c << "load_module " << echo_module << ";\n";
  for (const auto& m : options.nginx_modules) c << "load_module " << m << ";\n";
  if (running_as_root()) c << "user root;\n";  // else workers run as nobody
  c << "worker_processes 1;\n"
    << "pid " << dir.file("nginx.pid") << ";\n"
    << "error_log " << dir.file("error.log") << " notice;\n"
    << "events { worker_connections 512; }\n"
    << "http {\n"
    << "  access_log " << dir.file("access.log") << ";\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    c << "  " << temp << "_temp_path " << dir.file(std::string(temp) + "_temp") << ";\n";
  c << "  default_type application/octet-stream;\n"
    << "  server {\n";
  if (t == Transport::tls) {
    c << "    listen 127.0.0.1:" << port << " ssl http2;\n"
      << "    ssl_certificate " << dir.file("cert.pem") << ";\n"
      << "    ssl_certificate_key " << dir.file("key.pem") << ";\n";
    if (!options.client_ca_file.empty())
      c << "    ssl_client_certificate " << options.client_ca_file << ";\n"
        << "    ssl_verify_client on;\n"
        << "    ssl_verify_depth 3;\n"
        << "    location = /whoami { return 200 \"$ssl_client_s_dn\"; }\n";
  } else {
    c << "    listen 127.0.0.1:" << port << " http2;\n";
  }
  c << "    root " << dir.file("htdocs") << ";\n"
    << "    location = /204 { return 204; }\n"
    << options.nginx_server_config;
  if (echo)
    c << "    location = /echo {\n"
      << "      client_max_body_size 4m;\n"
      << "      client_body_buffer_size 4m;\n"
      << "      client_body_in_single_buffer on;\n"
      << "      echo_read_request_body;\n"
      << "      echo_request_body;\n"
      << "    }\n";
  c << "  }\n"
    << "}\n";
  write_file(dir.path() / "nginx.conf", c.str());

  l.argv = {bin, "-p", dir.path().string(), "-c", dir.file("nginx.conf"), "-g", "daemon off;"};
  l.logs = {dir.file("server.log"), dir.file("error.log")};
  l.traits.no_content_path = "/204";
  if (echo)
    l.traits.echo_path = "/echo";
  else
    l.traits.no_echo_reason = std::string("nginx cannot echo a body without ") + echo_module +
                              " (package libnginx-mod-http-echo)";
  return l;
}

const char* binary_name(PeerKind k) {
  switch (k) {
    case PeerKind::nghttpd: return "nghttpd";
    case PeerKind::h2o: return "h2o";
    case PeerKind::nginx: return "nginx";
  }
  return "?";
}

const char* debian_package(PeerKind k) {
  switch (k) {
    case PeerKind::nghttpd: return "nghttp2-server";
    case PeerKind::h2o: return "h2o";
    case PeerKind::nginx: return "nginx-light";
  }
  return "?";
}

std::string tails(const std::vector<std::filesystem::path>& logs) {
  std::string out;
  for (const auto& log : logs) {
    if (!std::filesystem::exists(log)) continue;
    out += "\n--- " + log.filename().string() + " ---\n" + file_tail(log);
  }
  return out;
}

}  // namespace

const char* to_string(PeerKind k) noexcept { return binary_name(k); }

const char* to_string(Transport t) noexcept {
  switch (t) {
    case Transport::tls: return "tls";
    case Transport::h2c: return "h2c";
  }
  return "?";
}

const std::string& small_file_body() {
  static const std::string body = "hello from a real HTTP/2 server\n";
  return body;
}

const std::string& big_file_body() {
  static const std::string body = [] {
    std::string b(1u << 20, '\0');
    std::mt19937 gen(20240611);
    for (auto& ch : b) ch = static_cast<char>(gen() & 0xff);
    return b;
  }();
  return body;
}

Peer::Peer(PeerKind kind, Transport transport, std::unique_ptr<TempDir> dir, std::uint16_t port,
           std::unique_ptr<PeerProcess> process, std::vector<std::filesystem::path> logs, PeerTraits traits)
    : kind_(kind),
      transport_(transport),
      dir_(std::move(dir)),
      port_(port),
      process_(std::move(process)),
      logs_(std::move(logs)),
      traits_(std::move(traits)) {}

Peer::~Peer() { process_.reset(); }

std::string Peer::url(const std::string& path) const {
  return std::string(transport_ == Transport::tls ? "https" : "http") + "://127.0.0.1:" +
         std::to_string(port_) + path;
}

std::string Peer::diagnostics() const {
  return std::string(to_string(kind_)) + " (" + process_->state() + ")" + tails(logs_);
}

PeerStart start_peer(PeerKind kind, Transport transport, const PeerOptions& options) {
  if (!options.client_ca_file.empty() && (kind != PeerKind::nginx || transport != Transport::tls))
    return {nullptr, "client certificate checks are set up for nginx over TLS only"};
  const std::string bin = find_program(binary_name(kind));
  if (bin.empty())
    return {nullptr, std::string(binary_name(kind)) + " is not installed (Debian package " +
                         debian_package(kind) + ", listed in scripts/setup.sh)"};

  auto dir = std::make_unique<TempDir>(binary_name(kind));
  std::filesystem::create_directory(dir->path() / "htdocs");
  write_file(dir->path() / "htdocs" / "small.txt", small_file_body());
  write_file(dir->path() / "htdocs" / "big.bin", big_file_body());
  for (const auto& [name, contents] : options.docroot_files) write_file(dir->path() / "htdocs" / name, contents);
  server::write_self_signed_certificate(dir->file("cert.pem"), dir->file("key.pem"));

  std::string why;
  for (int attempt = 1; attempt <= start_attempts; ++attempt) {
    const auto port = free_port();
    Launch l;
    switch (kind) {
      case PeerKind::nghttpd: l = nghttpd_launch(bin, *dir, transport, port); break;
      case PeerKind::h2o: l = h2o_launch(bin, *dir, transport, port); break;
      case PeerKind::nginx: l = nginx_launch(bin, *dir, transport, port, options); break;
    }
    auto process = std::make_unique<PeerProcess>(l.argv, l.logs.front());
    if (process->wait_until_listening(port, start_deadline))
      return {std::make_unique<Peer>(kind, transport, std::move(dir), port, std::move(process),
                                     std::move(l.logs), std::move(l.traits)),
              {}};
    const bool was_running = process->running();
    process->stop();
    const auto logs = tails(l.logs);
    why = std::string(binary_name(kind)) + " did not start on 127.0.0.1:" + std::to_string(port) +
          " (" + (was_running ? "not listening after 15 s" : process->state()) + ")" + logs;
    if (logs.find("in use") == std::string::npos) break;  // only a lost port race is worth a retry
  }
  return {nullptr, why};
}

}  // namespace rebound::interop
