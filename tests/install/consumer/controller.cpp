// A small controller built against the installed package (rebound::election,
// rebound::kube): it loads a kubeconfig (the install test has kubectl write
// it), elects itself over that server's Lease API with a 2 s lease, and
// watches the leases with the kube Watcher until a list or an event shows
// its own lease with itself as holder. Exits 0 then, 1 after 15 s without.
//
//     controller KUBECONFIG LEASE_NAME
#include <rebound/election/leader_elector.hpp>
#include <rebound/kube/kubeconfig.hpp>
#include <rebound/kube/watcher.hpp>
#include <rebound/lease/lease.hpp>
#include <rebound/rebound.hpp>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <iostream>
#include <mutex>
#include <string>

namespace {

using namespace std::chrono_literals;

// What the controller waits for: the elector says it leads, and the watch
// shows the lease held by `identity` (in either order).
struct Seen {
  std::mutex m;
  std::condition_variable cv;
  bool leading = false;
  bool held = false;
  std::string resource_version;

  void started_leading() {
    std::lock_guard lock(m);
    leading = true;
    cv.notify_all();
  }

  void check(const boost::json::object& obj, const std::string& name, const std::string& identity) {
    const auto lease = rebound::lease::lease_from_json(obj);
    if (!lease || lease->metadata.name != name || lease->spec.holder_identity != identity) return;
    std::lock_guard lock(m);
    held = true;
    resource_version = lease->metadata.resource_version;
    cv.notify_all();
  }
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: controller KUBECONFIG LEASE_NAME\n";
    return 2;
  }
  const std::string name = argv[2];
  const auto rest = rebound::kube::load_kubeconfig({.path = argv[1]});

  auto cfg = rebound::lease::LeaderElectionConfig::from(rest, name, "install-test-controller");
  cfg.lease_duration = 2s;
  cfg.renew_deadline = 1500ms;
  cfg.retry_period = 500ms;
  Seen seen;
  cfg.on_started_leading = [&] { seen.started_leading(); };
  cfg.on_event = [](const rebound::lease::ElectionEvent& e) { std::cerr << to_string(e) << "\n"; };
  rebound::lease::LeaderElector elector(cfg);
  const std::string identity = elector.identity();

  rebound::Options options;
  rest.apply_to(options);  // the kubeconfig's CA and token, for its server only
  rebound::Client client(options);
  rebound::kube::WatcherOptions w;
  w.collection_url = rest.url(rebound::lease::leases_path(rest.namespace_));
  w.on_list = [&](const std::vector<boost::json::object>& items, const std::string&) {
    for (const auto& item : items) seen.check(item, name, identity);
  };
  w.on_event = [&](const rebound::kube::WatchEvent& e) {
    if (e.type != rebound::kube::WatchEvent::Type::deleted) seen.check(e.object, name, identity);
  };
  w.on_status = [](const std::string& s) { std::cerr << "watch: " << s << "\n"; };
  rebound::kube::Watcher watcher(client, w);

  watcher.start();
  elector.start();
  bool held = false;
  {
    std::unique_lock lock(seen.m);
    held = seen.cv.wait_for(lock, 15s, [&] { return seen.held && seen.leading; });
  }
  const bool leading = elector.is_leader();
  watcher.stop();
  elector.stop();  // releases the lease
  if (!held) {
    std::cerr << "controller: within 15 s, leading: " << seen.leading << ", the watch showed " << rest.namespace_
              << "/" << name << " held by " << identity << ": " << seen.held << "\n";
    return 1;
  }
  std::cout << "leader " << identity << " seen in the watch at resourceVersion " << seen.resource_version
            << (leading ? "" : " (leadership already over)") << "\n";
  return leading ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "controller: " << e.what() << "\n";
  return 1;
}
