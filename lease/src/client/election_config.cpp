// LeaderElectionConfig's checks and its in-cluster constructor, and the
// event's text form.
#include "rebound/lease/leader_elector.hpp"

#include "client/election_state.hpp"

#include <algorithm>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace rebound::lease {

std::string LeaderElectionConfig::validate() const {
  using std::chrono::milliseconds;
  if (base_url.empty()) return "base_url is empty";
  if (namespace_.empty()) return "namespace_ is empty";
  if (name.empty()) return "name is empty";
  if (identity.empty()) return "identity is empty";
  if (lease_duration <= milliseconds::zero() || renew_deadline <= milliseconds::zero() ||
      retry_period <= milliseconds::zero())
    return "lease_duration, renew_deadline and retry_period must be positive";
  if (jitter_factor < 0) return "jitter_factor must not be negative";
  // client-go's two rules: a leader must give up before others may take
  // over, and a renewal round must have room for more than one attempt.
  if (lease_duration <= renew_deadline) return "lease_duration must be greater than renew_deadline";
  if (safety_margin && (*safety_margin < milliseconds::zero() || *safety_margin >= lease_duration))
    return "safety_margin must be at least 0 and less than lease_duration";
  if (static_cast<double>(renew_deadline.count()) <= jitter_factor * static_cast<double>(retry_period.count()))
    return "renew_deadline must be greater than jitter_factor * retry_period";
  return {};
}

namespace detail {

rebound::Options election_client_options(const LeaderElectionConfig& cfg) {
  rebound::Options o = cfg.client_options;
  // Only ever lowered: a connection that went silent must be found and
  // dropped well inside the renew deadline, not after the library's
  // defaults (30 s idle + 15 s PING, 30 s TCP user timeout).
  o.ping_timeout = std::min(o.ping_timeout, cfg.retry_period);
  o.connect_timeout = std::min(o.connect_timeout, cfg.retry_period);
  o.read_idle_timeout = std::min(o.read_idle_timeout, cfg.renew_deadline / 2);
  o.tcp_user_timeout = std::min(o.tcp_user_timeout, cfg.renew_deadline / 2);
  return o;
}

}  // namespace detail

namespace {

std::string read_trimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

}  // namespace

LeaderElectionConfig LeaderElectionConfig::in_cluster(std::string name, std::string identity,
                                                      const std::string& service_account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    throw std::runtime_error("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  const std::string token_file = service_account_dir + "/token";
  const std::string ca_file = service_account_dir + "/ca.crt";
  if (::access(token_file.c_str(), R_OK) != 0) throw std::runtime_error("cannot read " + token_file);
  if (::access(ca_file.c_str(), R_OK) != 0) throw std::runtime_error("cannot read " + ca_file);

  LeaderElectionConfig cfg;
  const std::string h = host;
  // An IPv6 service address needs brackets in a URL.
  cfg.base_url = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  cfg.name = std::move(name);
  cfg.identity = std::move(identity);
  cfg.bearer_token_file = token_file;
  cfg.client_options.tls.ca_file = ca_file;
  if (auto ns = read_trimmed(service_account_dir + "/namespace"); !ns.empty()) cfg.namespace_ = std::move(ns);
  return cfg;
}

const char* to_string(ElectionEventKind k) noexcept {
  switch (k) {
    case ElectionEventKind::acquired: return "acquired";
    case ElectionEventKind::renewed: return "renewed";
    case ElectionEventKind::held_by_other: return "held_by_other";
    case ElectionEventKind::conflict: return "conflict";
    case ElectionEventKind::failed: return "failed";
    case ElectionEventKind::new_leader: return "new_leader";
    case ElectionEventKind::lost: return "lost";
    case ElectionEventKind::released: return "released";
    case ElectionEventKind::release_failed: return "release_failed";
    case ElectionEventKind::stopped: return "stopped";
  }
  return "unknown";
}

std::string to_string(const ElectionEvent& e) {
  const auto micros = std::chrono::floor<std::chrono::microseconds>(e.wall_time);
  std::string out = format_micro_time(MicroTime(micros.time_since_epoch()));
  out += " " + e.identity + " " + to_string(e.kind);
  if (!e.holder.empty()) out += " holder=" + e.holder;
  if (!e.resource_version.empty()) out += " rv=" + e.resource_version;
  if (e.http_status != 0) out += " status=" + std::to_string(e.http_status);
  if (!e.error_kind.empty()) out += " " + e.error_kind + ":";
  if (!e.message.empty()) out += " " + e.message;
  if (e.took.count() > 0) out += " (" + std::to_string(e.took.count()) + " ms)";
  if (e.valid_until != std::chrono::steady_clock::time_point{})
    out += " valid for " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(e.valid_until - e.time).count()) + " ms";
  return out;
}

}  // namespace rebound::lease
