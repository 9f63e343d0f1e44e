// LeaderElectionConfig's checks, its constructors from a kube::RestConfig
// (kubeconfig or in-cluster), and the event's text form.
#include "rebound/election/leader_elector.hpp"

#include "election_state.hpp"

#include <rebound/kube/in_cluster.hpp>

#include <algorithm>

#include <ctime>
#include <stdexcept>

namespace rebound::lease {

std::string LeaderElectionConfig::validate() const {
  using std::chrono::milliseconds;
  for (const auto& endpoint : etcd_endpoints)
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
      return "etcd endpoint \"" + endpoint + "\" is not an http:// or https:// URL";
  if (etcd_endpoints.empty() && base_url.empty()) return "base_url is empty";
  if (etcd_endpoints.empty() && namespace_.empty()) return "namespace_ is empty";
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

rebound::Options etcd_client_options(const LeaderElectionConfig& cfg) {
  rebound::Options o = election_client_options(cfg);
  o.http_version = rebound::HttpVersion::http2_prior_knowledge;
  // etcd's default --grpc-keepalive-min-time.
  constexpr std::chrono::milliseconds etcd_min_ping_interval = std::chrono::seconds(5);
  if (o.read_idle_timeout > std::chrono::milliseconds::zero())
    o.read_idle_timeout = std::max(o.read_idle_timeout, etcd_min_ping_interval);
  // etcd does not permit keepalive without calls: every PING on a
  // connection with no stream is a strike, however far apart.
  o.ping_without_streams = false;
  return o;
}

}  // namespace detail

LeaderElectionConfig LeaderElectionConfig::from(const kube::RestConfig& rest, std::string name, std::string identity) {
  LeaderElectionConfig cfg;
  cfg.base_url = rest.server;
  cfg.namespace_ = rest.namespace_;
  cfg.name = std::move(name);
  cfg.identity = std::move(identity);
  rest.apply_to(cfg.client_options);
  return cfg;
}

LeaderElectionConfig LeaderElectionConfig::in_cluster(std::string name, std::string identity,
                                                      const std::string& service_account_dir) {
  LeaderElectionConfig cfg = from(kube::in_cluster_config(service_account_dir), std::move(name), std::move(identity));
  // lease_api sends the token itself today (until the Client applies
  // client_options.credentials).
  cfg.bearer_token_file = service_account_dir + "/token";
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
