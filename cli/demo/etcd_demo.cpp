// run_etcd_demo: see etcd_demo.hpp. The candidates run in this process,
// each with its own elector and Client; the members are child processes
// (EtcdMembers) or someone else's (--endpoints: then nothing is killed).
#include "demo/etcd_demo.hpp"

#include "demo/candidate.hpp"
#include "demo/etcd_members.hpp"
#include "demo/leadership_sampler.hpp"
#include "demo/timeline.hpp"

#include <rebound/election/leader_elector.hpp>

#include <boost/json.hpp>

#include <unistd.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <random>

namespace rebound::cli::demo {
namespace {

using namespace std::chrono_literals;

// A killed member that was etcd's raft leader stalls writes for an
// election (1-2 s with these members' timings): the renew deadline
// outlasts that, and the lease outlasts the renew deadline. No jitter, so
// the takeover bound (TTL + one retry period) is exact.
constexpr auto etcd_lease = 5000ms;
constexpr auto etcd_renew_deadline = 4000ms;
constexpr auto etcd_retry_period = 300ms;

// Where the leader's requests go: the origin (member) of the last request
// its Client started, from the Client's own events.
class LastOrigin {
 public:
  void saw(const std::string& origin) {
    std::lock_guard lock(mutex_);
    origin_ = origin;
  }
  std::string get() const {
    std::lock_guard lock(mutex_);
    return origin_;
  }

 private:
  mutable std::mutex mutex_;
  std::string origin_;
};

lease::LeaderElectionConfig etcd_candidate(const std::vector<std::string>& endpoints, const std::string& key,
                                           Candidate& c, Timeline& tl, LastOrigin* origin) {
  lease::LeaderElectionConfig cfg;
  cfg.etcd_endpoints = endpoints;
  cfg.name = key;
  cfg.identity = c.name;
  cfg.unique_identity = false;  // two names unique by construction, shown in the timeline
  cfg.lease_duration = etcd_lease;
  cfg.renew_deadline = etcd_renew_deadline;
  cfg.retry_period = etcd_retry_period;
  cfg.jitter_factor = 0;
  cfg.client_options.connect_timeout = 500ms;
  cfg.client_options.on_event = [&tl, &c, origin](const Event& e) {
    switch (e.kind) {
      case EventKind::request_start:
        if (origin) origin->saw(e.origin);
        break;
      case EventKind::connection_closed:
        tl.add(c.name, "conn closed", e.origin + " conn #" + std::to_string(e.connection) + ": " + error_kind(e.error),
               Mark::info);
        break;
      case EventKind::goaway:
        tl.add(c.name, "goaway", e.origin + " " + e.detail, Mark::info);
        break;
      default:
        break;
    }
  };
  cfg.on_event = [&tl, &c](const lease::ElectionEvent& e) { c.on_event(tl, e); };
  return cfg;
}

bool terms_overlap(const Candidate& a, const Candidate& b) {
  for (const auto& [as, ae] : a.terms)
    for (const auto& [bs, be] : b.terms)
      if (as < (be < 0 ? 1e9 : be) && bs < (ae < 0 ? 1e9 : ae)) return true;
  return false;
}

}  // namespace

int run_etcd_demo(const EtcdDemoFlags& f) {
  const bool own = f.endpoints.empty();
  if (own && !EtcdMembers::installed()) {
    std::cerr << "rebound demo: --backend etcd needs the etcd binary on PATH (Debian: apt-get install "
                 "etcd-server) or --endpoints URL,URL,... of a running cluster\n";
    return 2;
  }
  Timeline tl(f.json ? nullptr : &std::cout, !f.verbose);
  if (!f.json)
    std::cout << "rebound demo: leader election on etcd while the member the leader talks to is killed and "
                 "restarted\n"
              << "lease " << etcd_lease.count() << " ms, renew deadline " << etcd_renew_deadline.count()
              << " ms, retry " << etcd_retry_period.count() << " ms\n\n";
  std::optional<EtcdMembers> members;
  if (own) {
    try {
      members.emplace(3);
    } catch (const std::exception& e) {
      std::cerr << "rebound demo: the etcd cluster did not start: " << e.what() << "\n";
      return 2;
    }
  }
  const std::vector<std::string> endpoints = own ? members->client_urls() : f.endpoints;
  std::string list;
  for (const auto& e : endpoints) list += (list.empty() ? "" : ", ") + e;
  tl.add("etcd", "up", std::to_string(endpoints.size()) + " members: " + list, Mark::up);

  const std::string key = "rebound-demo/" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  Candidate a{"candidate-a", f.verbose}, b{"candidate-b", f.verbose};
  LastOrigin origin;
  auto cfg_a = etcd_candidate(endpoints, key, a, tl, &origin);
  cfg_a.release_on_cancel = false;  // it will die like a crashed process: no goodbye
  lease::LeaderElector elector_a(cfg_a);
  lease::LeaderElector elector_b(etcd_candidate(endpoints, key, b, tl, nullptr));

  elector_a.start();
  const bool a_led = a.wait_leading(true, 15s);
  elector_b.start();
  b.wait_found_held(5s);  // b is a standby now
  LeadershipSampler sampler({&elector_a, &elector_b});
  sampler.expect_a_leader(a_led);

  // Each round kills whichever member the leader's last request went to,
  // waits for two renewals through the others, and restarts it.
  std::vector<std::string> killed;
  for (int k = 0; own && a_led && k < f.kills; ++k) {
    const std::string talked_to = origin.get();
    int m = members->index_of(talked_to);
    if (m < 0) m = k % members->size();
    const int renewals_before = a.renewals_so_far();
    members->kill(m);
    killed.push_back("m" + std::to_string(m));
    tl.add("etcd", "killed m" + std::to_string(m),
           endpoints[m] + ", the member the leader talks to: SIGKILL", Mark::down);
    if (!a.wait_renewals(renewals_before, 2, etcd_lease))
      tl.add("etcd", "no renewal", "the leader did not renew through the other members", Mark::bad);
    members->restart(m);
    tl.add("etcd", "restarted m" + std::to_string(m), endpoints[m] + " healthy again", Mark::up);
  }
  if (!own) tl.add("etcd", "no kills", "the members of --endpoints are not this demo's to kill", Mark::info);
  if (a_led) a.wait_renewals(a.renewals_so_far(), 1, etcd_renew_deadline);  // one more after the last restart
  sampler.expect_a_leader(false);  // from here a gap is expected: the leader dies
  const int lapses = sampler.lapses();

  const double a_stopped_at = tl.now();
  tl.add("candidate-a", "dies", "stops without releasing: its key lives until its etcd lease expires", Mark::info);
  elector_a.stop();
  const bool b_led = b.wait_leading(true, etcd_lease + etcd_retry_period + 5s);
  const double takeover = b_led ? b.terms.front().first - a_stopped_at : -1;
  if (b_led) b.wait_renewals(b.renewals_so_far(), 1, etcd_renew_deadline);  // b holds it
  sampler.stop();
  elector_b.stop();  // releases
  if (own) {
    members.reset();
    tl.add("etcd", "down", "demo over", Mark::down);
  }

  // --- verdict ---
  const bool leader_kept = a_led && a.losses == 0 && a.acquisitions == 1 && lapses == 0 &&
                           static_cast<int>(killed.size()) == (own ? f.kills : 0);
  const bool one_at_a_time = sampler.most_at_once() <= 1 && !terms_overlap(a, b);
  const double bound = std::chrono::duration<double>(etcd_lease + etcd_retry_period).count() + 1.0;
  const bool timely = b_led && takeover <= bound;
  const bool ok = leader_kept && one_at_a_time && timely && b.acquisitions == 1;

  boost::json::object v;
  v["ok"] = ok;
  v["backend"] = "etcd";
  v["members"] = boost::json::value_from(endpoints);
  v["members_killed"] = boost::json::value_from(killed);
  v["leader_kept_lease_through_member_kills"] = leader_kept;
  v["leader_renewals"] = a.renewals;
  v["leader_failed_attempts"] = a.failures;
  v["samples"] = sampler.samples();
  v["leaderless_samples_during_kills"] = lapses;
  v["max_simultaneous_leaders"] = sampler.most_at_once();
  v["takeovers"] = b.acquisitions;
  v["takeover_seconds"] = takeover;
  v["takeover_bound_seconds"] = bound;
  const std::string verdict = boost::json::serialize(v);

  if (!f.svg.empty()) {
    std::ofstream out(f.svg);
    out << tl.to_svg({"etcd", "candidate-a", "candidate-b"},
                     std::string("rebound demo --backend etcd: ") + (ok ? "PASS" : "FAIL"),
                     "blue: holds the lock \u00b7 green: renewal \u00b7 red: failed attempt \u00b7 pink: a member down");
  }
  if (f.json) {
    std::cout << tl.to_json(verdict) << std::endl;
  } else {
    std::cout << "\nverdict: " << (ok ? "PASS" : "FAIL") << "\n"
              << "  leader kept its lease through " << killed.size() << " member kill(s): "
              << (leader_kept ? "yes" : "NO") << " (" << a.renewals << " renewals, " << a.failures
              << " failed attempts, " << lapses << " samples without a leader)\n"
              << "  never more than one leader (" << sampler.samples()
              << " samples, every 2 ms): " << (one_at_a_time ? "yes" : "NO") << "\n"
              << "  standby took over " << std::fixed << std::setprecision(2) << takeover
              << " s after the leader died (bound " << bound << " s): " << (timely ? "yes" : "NO") << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace rebound::cli::demo
