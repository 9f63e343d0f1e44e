// EtcdCluster: see etcd_cluster.hpp.
#include "etcd_cluster.hpp"

#include "etcd_calls.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rebound::testing {

namespace {

// A port the kernel just handed out on 127.0.0.1 (closed again: etcd binds
// it a moment later; a clash is possible but rare, and fails loudly).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

bool EtcdCluster::available() { return std::system("command -v etcd >/dev/null 2>&1") == 0; }

EtcdCluster::EtcdCluster(int members, std::optional<Tls> tls) : tls_(std::move(tls)) {
  std::random_device entropy;
  token_ = "rebound-test-" + std::to_string(entropy());
  root_ = std::filesystem::path("/dev/shm") / ("rebound-etcd-" + std::to_string(::getpid()) + "-" + token_);
  std::filesystem::create_directories(root_);
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_url = std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(free_port());
    m.peer_url = "http://127.0.0.1:" + std::to_string(free_port());
    m.data_dir = root_ / m.name;
    m.log_file = root_ / (m.name + ".log");
    initial_cluster_ += (i ? "," : "") + m.name + "=" + m.peer_url;
    members_.push_back(std::move(m));
  }
  for (int i = 0; i < members; ++i) start(i, true);
  for (int i = 0; i < members; ++i)
    if (!wait_ready(i, std::chrono::seconds(30))) throw std::runtime_error("etcd member did not start:\n" + log(i));
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) m.process.reset();  // SIGKILL and reap
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (const auto& m : members_) urls.push_back(m.client_url);
  return urls;
}

void EtcdCluster::start(int i, bool fresh) {
  Member& m = members_.at(i);
  // Election timings closer to a LAN than etcd's defaults, so a killed
  // raft leader is replaced within about a second; the heartbeat leaves
  // room for a loaded 2-core machine.
  std::ostringstream cmd;
  cmd << "echo started; exec etcd --name " << m.name << " --data-dir " << quoted(m.data_dir.string())
      << " --listen-client-urls " << m.client_url << " --advertise-client-urls " << m.client_url
      << " --listen-peer-urls " << m.peer_url << " --initial-advertise-peer-urls " << m.peer_url
      << " --initial-cluster " << initial_cluster_ << " --initial-cluster-token " << token_
      << " --initial-cluster-state " << (fresh ? "new" : "existing")
      << " --heartbeat-interval 100 --election-timeout 1000 --logger zap --log-level warn";
  if (tls_)
    cmd << " --cert-file " << quoted(tls_->server_cert) << " --key-file " << quoted(tls_->server_key)
        << " --trusted-ca-file " << quoted(tls_->ca_file) << " --client-cert-auth";
  cmd << " >>" << quoted(m.log_file.string()) << " 2>&1";
  m.process = std::make_unique<rebound::process::ChildProcess>("/bin/sh",
                                                                std::vector<std::string>{"-c", cmd.str()});
}

void EtcdCluster::kill(int i) {
  auto& p = members_.at(i).process;
  if (p) p->kill();
  p.reset();
}

void EtcdCluster::restart(int i) {
  if (running(i)) return;
  start(i, false);
  if (!wait_ready(i, std::chrono::seconds(30))) throw std::runtime_error("etcd member did not restart:\n" + log(i));
}

rebound::Options EtcdCluster::client_options() const {
  rebound::Options o;
  o.http_version = rebound::HttpVersion::http2_prior_knowledge;
  if (tls_) {
    o.tls.ca_file = tls_->ca_file;
    o.tls.cert_file = tls_->client_cert;
    o.tls.key_file = tls_->client_key;
  }
  return o;
}

bool EtcdCluster::wait_ready(int i, std::chrono::milliseconds timeout) const {
  rebound::Options o = client_options();
  o.connect_timeout = std::chrono::seconds(1);
  rebound::Client client(o);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (running(i) && range_count(client, client_url(i), "rebound-ready-probe", std::chrono::seconds(1)))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string EtcdCluster::log(int i) const {
  std::ifstream in(members_.at(i).log_file);
  std::stringstream all;
  all << in.rdbuf();
  const std::string s = all.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace rebound::testing
