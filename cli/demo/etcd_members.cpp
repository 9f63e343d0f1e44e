// EtcdMembers: see etcd_members.hpp.
#include "demo/etcd_members.hpp"

#include <rebound/client.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rebound::cli::demo {
namespace {

// A port the kernel hands out on 127.0.0.1, closed again for etcd to bind
// a moment later (a clash is rare and fails loudly in wait_healthy).
int unused_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("no free port on 127.0.0.1");
  return ntohs(a.sin_port);
}

std::string tail_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream all;
  all << in.rdbuf();
  const std::string s = all.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

bool EtcdMembers::installed() { return std::system("command -v etcd >/dev/null 2>&1") == 0; }

EtcdMembers::EtcdMembers(int count) {
  token_ = "rebound-demo-" + std::to_string(std::random_device{}());
  root_ = std::filesystem::path("/dev/shm") / (token_ + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root_);
  for (int i = 0; i < count; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_url = "http://127.0.0.1:" + std::to_string(unused_loopback_port());
    m.peer_url = "http://127.0.0.1:" + std::to_string(unused_loopback_port());
    m.data_dir = root_ / m.name;
    m.log_file = root_ / (m.name + ".log");
    cluster_ += (i ? "," : "") + m.name + "=" + m.peer_url;
    members_.push_back(std::move(m));
  }
  try {
    for (int i = 0; i < count; ++i) start(i, true);
    for (int i = 0; i < count; ++i) wait_healthy(i);
  } catch (...) {
    members_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
    throw;
  }
}

EtcdMembers::~EtcdMembers() {
  members_.clear();  // each ChildProcess SIGKILLs and reaps its member
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

std::vector<std::string> EtcdMembers::client_urls() const {
  std::vector<std::string> urls;
  for (const auto& m : members_) urls.push_back(m.client_url);
  return urls;
}

int EtcdMembers::index_of(const std::string& client_url) const {
  for (int i = 0; i < size(); ++i)
    if (members_[i].client_url == client_url) return i;
  return -1;
}

void EtcdMembers::start(int i, bool fresh) {
  Member& m = members_.at(i);
  // A LAN's raft timings rather than etcd's defaults (100 ms heartbeats, a
  // 1 s election timeout): a killed raft leader is replaced in about a
  // second, well inside the demo's renew deadline. The shell prints the
  // line ChildProcess waits for, then becomes etcd (so SIGKILL reaches it).
  std::ostringstream cmd;
  cmd << "echo started; exec etcd --name " << m.name << " --data-dir '" << m.data_dir.string() << "'"
      << " --listen-client-urls " << m.client_url << " --advertise-client-urls " << m.client_url
      << " --listen-peer-urls " << m.peer_url << " --initial-advertise-peer-urls " << m.peer_url
      << " --initial-cluster " << cluster_ << " --initial-cluster-token " << token_
      << " --initial-cluster-state " << (fresh ? "new" : "existing")
      << " --heartbeat-interval 100 --election-timeout 1000 --logger zap --log-level warn"
      << " >>'" << m.log_file.string() << "' 2>&1";
  m.process = std::make_unique<process::ChildProcess>("/bin/sh", std::vector<std::string>{"-c", cmd.str()});
}

void EtcdMembers::kill(int i) {
  auto& p = members_.at(i).process;
  if (p) p->kill();
  p.reset();
}

void EtcdMembers::restart(int i) {
  if (members_.at(i).process) return;
  start(i, false);
  wait_healthy(i);
}

// etcd's own /health (HTTP/1.1 on the client URL: HTTP/2 there is gRPC)
// answers 200 once the member has a raft leader and serves reads.
void EtcdMembers::wait_healthy(int i) const {
  Options o;
  o.connect_timeout = std::chrono::seconds(1);
  o.request_timeout = std::chrono::seconds(1);
  Client client(o);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.get(members_[i].client_url + "/health");
    if (r && r->status() == 200 && r->body().find("true") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("etcd member " + members_[i].name + " is not healthy after 30 s:\n" +
                           tail_of(members_[i].log_file));
}

}  // namespace rebound::cli::demo
