// Rig: starting, faulting, restarting and stopping the soak's servers and
// proxies.
#include <rebound/soak/rig.hpp>

#include "child_process.hpp"

#include <rebound/proxy/fault_proxy.hpp>
#include <rebound/server/server.hpp>

#include <fstream>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace rebound::soak {

namespace {

using namespace std::chrono_literals;

// A server that is down gets connects from its proxy. Were its port in the
// kernel's ephemeral range, one of those connects could be given that very
// port as its source and connect to itself (TCP simultaneous open), holding
// the port so the restart cannot bind it. Ports below the range cannot be
// picked as a source port.
std::uint16_t pick_port() {
  unsigned lo = 32768, hi = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> lo >> hi;
  const bool below = lo > 11000;
  std::uniform_int_distribution<unsigned> pick(below ? 10000u : hi + 1, below ? lo - 1 : 65535u);
  std::random_device rd;
  for (int tries = 0; tries < 100; ++tries) {
    const auto port = static_cast<std::uint16_t>(pick(rd));
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
  }
  throw HarnessError("no free port below the ephemeral range");
}

/// Retries `start` for a while: a port can stay busy for a moment after a kill.
template <class F>
void with_retries(const std::string& what, F start) {
  std::string last;
  for (int tries = 0; tries < 50; ++tries) {
    try {
      start();
      return;
    } catch (const std::exception& e) {
      last = e.what();
    }
    std::this_thread::sleep_for(100ms);
  }
  throw HarnessError(what + ": " + last);
}

void join(std::thread& t) {
  if (t.joinable()) t.join();
}

}  // namespace

struct Rig::Slot {
  ServerSlot which{};
  std::uint16_t port = 0;
  std::string log;
  std::unique_ptr<server::Server> server;      // in-process slots
  std::optional<process::ChildProcess> child;           // child slots
  std::vector<std::string> child_args;
  std::thread stopping;                        // a graceful stop runs beside the schedule
  std::unique_ptr<proxy::FaultProxy> proxy;

  void start_child() {
    with_retries(std::string("restart ") + to_string(which), [this] { child.emplace("/proc/self/exe", child_args); });
  }
};

Rig::Rig(std::string dir) : dir_(std::move(dir)) {
  server::write_self_signed_certificate(dir_ + "/cert.pem", dir_ + "/key.pem");
  for (int i = 0; i < server_count; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->which = static_cast<ServerSlot>(i);
    slot->port = pick_port();
    slot->log = dir_ + "/" + to_string(slot->which) + ".log";
    if (is_child(slot->which)) {
      slot->child_args = {"serve", "--port", std::to_string(slot->port), "--request-log", slot->log};
      if (is_tls(slot->which))
        slot->child_args.insert(slot->child_args.end(),
                                {"--tls", "--cert", dir_ + "/cert.pem", "--key", dir_ + "/key.pem"});
      slot->start_child();
    } else {
      server::ServerOptions o;
      o.port = slot->port;
      o.tls = is_tls(slot->which);
      o.cert_file = dir_ + "/cert.pem";
      o.key_file = dir_ + "/key.pem";
      o.request_log = slot->log;
      // The plain server also closes idle keep-alive connections, racing
      // the client's reuse of them as real servers do.
      if (!o.tls) o.h1_idle_timeout = 1500ms;
      slot->server = std::make_unique<server::Server>(o);
      with_retries(std::string("start ") + to_string(slot->which), [&] { slot->server->start(); });
    }
    proxy::ProxyOptions po;
    po.target_port = slot->port;
    slot->proxy = std::make_unique<proxy::FaultProxy>(po);
    slot->proxy->start();
    slots_[i] = std::move(slot);
  }
}

Rig::~Rig() { stop(); }

std::string Rig::url(ServerSlot s) const {
  return std::string(is_tls(s) ? "https" : "http") + "://127.0.0.1:" +
         std::to_string(slots_[static_cast<int>(s)]->proxy->port());
}

std::string Rig::ca_file() const { return dir_ + "/cert.pem"; }

std::string Rig::request_log(ServerSlot s) const { return slots_[static_cast<int>(s)]->log; }

std::vector<pid_t> Rig::child_pids() const {
  std::vector<pid_t> pids;
  for (const auto& s : slots_)
    if (s && s->child) pids.push_back(s->child->pid());
  return pids;
}

void Rig::apply(const Action& a) {
  Slot& s = *slots_[static_cast<int>(a.target)];
  switch (a.op) {
    case Op::child_kill9: s.child->kill(); return;
    case Op::child_term: s.stopping = std::thread([&s] { s.child->terminate(); }); return;
    case Op::repair_restart_child:
      join(s.stopping);
      s.child.reset();
      s.start_child();
      return;
    case Op::server_kill: s.server->kill(); return;
    case Op::server_stop:
      s.stopping = std::thread([&s, grace = std::chrono::milliseconds(a.param)] { s.server->stop(grace); });
      return;
    case Op::repair_restart_server:
      join(s.stopping);
      with_retries(std::string("restart ") + to_string(s.which), [&s] { s.server->restart(); });
      return;
    case Op::goaway: s.server->send_goaway(-1); return;
    case Op::refuse_streams: s.server->refuse_streams(true); return;
    case Op::repair_refuse_off: s.server->refuse_streams(false); return;
    case Op::reset_streams: s.server->reset_next_streams(static_cast<int>(a.param)); return;
    case Op::drop_requests: s.server->drop_next_requests(static_cast<int>(a.param)); return;
    case Op::window_shrink: s.server->change_initial_window_size(a.param); return;
    case Op::repair_window: s.server->change_initial_window_size(65535); return;
    case Op::proxy_reset_all: s.proxy->reset_all(); return;
    case Op::proxy_reset_mode: s.proxy->set_mode(proxy::Mode::reset); return;
    case Op::proxy_blackhole: s.proxy->set_mode(proxy::Mode::blackhole); return;
    case Op::repair_proxy_pass: s.proxy->set_mode(proxy::Mode::pass); return;
    case Op::proxy_blackhole_current: s.proxy->blackhole_current(); return;
    case Op::proxy_delay: s.proxy->set_delay(std::chrono::milliseconds(a.param)); return;
    case Op::repair_delay_off: s.proxy->set_delay(0ms); return;
    case Op::proxy_cut: s.proxy->cut_after_bytes(a.param); return;
    case Op::repair_cut_off: s.proxy->cut_after_bytes(0); return;
  }
}

void Rig::stop() {
  for (auto& s : slots_) {
    if (!s) continue;
    join(s->stopping);
    if (s->proxy) s->proxy->stop();
    if (s->server) s->server->kill();
    if (s->child) s->child->kill();
  }
}

}  // namespace rebound::soak
