// Shared helpers for the lease tests: a TLS (h2) server with the Lease API,
// candidates configured with short timings, a recorder of leadership
// intervals and election events, a polling wait with a deadline, and the
// server's count of POSTs (the one non-idempotent request of an election).
#pragma once

#include "integration/fixtures.hpp"  // open_fds()

#include <rebound/election/leader_elector.hpp>
#include <rebound/lease_server/lease_store.hpp>
#include <rebound/rebound.hpp>
#include <rebound/server/server.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rebound::lease::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline constexpr const char* lock_ns = "default";
inline constexpr const char* lock_name = "lock";

// Short timings: the record says leaseDurationSeconds 2 (1.5 s rounded up).
inline constexpr auto test_lease = 1500ms;
inline constexpr auto test_renew_deadline = 1000ms;
inline constexpr auto test_retry = 200ms;
inline constexpr auto record_lease = 2000ms;

inline std::unique_ptr<server::Server> start_tls_server() {
  server::ServerOptions o;
  o.tls = true;
  o.threads = 2;  // handlers on several threads, as the store must allow
  auto s = std::make_unique<server::Server>(o);
  s->start();
  return s;
}

inline Options trusting(const server::Server& s) {
  Options o;
  o.tls.ca_file = s.certificate_file();
  return o;
}

/// For election tests: once a test's electors, clients, servers and
/// processes are gone (locals of the test body, destroyed before TearDown),
/// the process holds exactly the file descriptors it held before.
class FdBaselineTest : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_EQ(rebound::testing::open_fds(), fds_before_) << "file descriptors left behind";
  }

 private:
  const std::size_t fds_before_ = rebound::testing::open_fds();
};

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

/// Leadership intervals and events of any number of candidates.
class Recorder {
 public:
  /// With REBOUND_LEASE_TIMELINE set, prints every event when destroyed.
  ~Recorder() {
    if (std::getenv("REBOUND_LEASE_TIMELINE")) std::fprintf(stderr, "%s", timeline().c_str());
  }

  struct Interval {
    std::string identity;
    Clock::time_point start;
    std::optional<Clock::time_point> end;
  };

  /// Wires the config's callbacks to this recorder.
  void attach(LeaderElectionConfig& cfg) {
    const std::string id = cfg.identity;
    cfg.on_started_leading = [this, id] {
      std::lock_guard lock(mutex_);
      intervals_.push_back({id, Clock::now(), std::nullopt});
    };
    cfg.on_stopped_leading = [this, id] {
      std::lock_guard lock(mutex_);
      for (auto& i : intervals_)
        if (i.identity == id && !i.end) i.end = Clock::now();
    };
    cfg.on_new_leader = [this, id](const std::string& holder) {
      std::lock_guard lock(mutex_);
      new_leaders_[id].push_back(holder);
    };
    cfg.on_event = [this](const ElectionEvent& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
    };
  }

  std::vector<Interval> intervals() const {
    std::lock_guard lock(mutex_);
    return intervals_;
  }
  std::vector<ElectionEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::string> new_leaders(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = new_leaders_.find(id);
    return it == new_leaders_.end() ? std::vector<std::string>{} : it->second;
  }
  int count(ElectionEventKind kind, const std::string& id = {}) const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& e : events_) n += e.kind == kind && (id.empty() || e.identity == id);
    return n;
  }
  /// Times `id` started leading.
  int leaderships(const std::string& id) const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& i : intervals_) n += i.identity == id;
    return n;
  }
  /// Who leads now by the callbacks ("" for nobody, "!" for more than one).
  std::string current_leader() const {
    std::lock_guard lock(mutex_);
    std::string who;
    for (const auto& i : intervals_)
      if (!i.end) who = who.empty() ? i.identity : "!";
    return who;
  }
  /// "" when no two leadership intervals overlap, else a description.
  std::string overlaps() const {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    std::ostringstream out;
    for (std::size_t a = 0; a < intervals_.size(); ++a)
      for (std::size_t b = a + 1; b < intervals_.size(); ++b) {
        const auto& x = intervals_[a];
        const auto& y = intervals_[b];
        if (x.start < y.end.value_or(now) && y.start < x.end.value_or(now))
          out << x.identity << " and " << y.identity << " led at the same time; ";
      }
    return out.str();
  }
  /// Every event as text, for failure messages.
  std::string timeline() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& e : events_) out += to_string(e) + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Interval> intervals_;
  std::vector<ElectionEvent> events_;
  std::map<std::string, std::vector<std::string>> new_leaders_;
};

/// POSTs whose handler ran on `s`: an election creates a lease with the
/// only non-idempotent request it sends, which must never run twice.
inline std::uint64_t posts(const server::Server& s) {
  const auto by_method = s.stats().requests_by_method;
  const auto it = by_method.find("POST");
  return it == by_method.end() ? 0 : it->second;
}

/// A candidate for `lock` on `s` with the short test timings.
inline LeaderElectionConfig candidate(const server::Server& s, std::string identity, Recorder& recorder) {
  LeaderElectionConfig cfg;
  cfg.base_url = s.url();
  cfg.namespace_ = lock_ns;
  cfg.name = lock_name;
  cfg.identity = std::move(identity);
  // These tests name their candidates and read the names back from the
  // server; the unique suffix has its own tests.
  cfg.unique_identity = false;
  cfg.lease_duration = test_lease;
  cfg.renew_deadline = test_renew_deadline;
  cfg.retry_period = test_retry;
  cfg.client_options = trusting(s);
  recorder.attach(cfg);
  return cfg;
}

/// The server's holder changes of `lock`, as text.
inline std::string describe_history(const LeaseStore& store) {
  std::ostringstream out;
  for (const auto& c : store.holder_history(lock_ns, lock_name))
    out << "'" << c.previous_holder << "' -> '" << c.holder << "' rv " << c.resource_version << "\n";
  return out.str();
}

/// "" when every takeover seen by the server (a change from one holder to
/// another, with no release between) came at least the previous record's
/// leaseDurationSeconds after that holder's last write: never two holders
/// with a valid lease at once. Else a description.
inline std::string premature_takeovers(const LeaseStore& store) {
  std::ostringstream out;
  for (const auto& c : store.holder_history(lock_ns, lock_name)) {
    if (c.previous_holder.empty() || c.holder.empty() || !c.previous_holder_last_write) continue;
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(c.at - *c.previous_holder_last_write);
    // 20 ms of slack for the two clocks involved (steady on the candidate, wall on the server).
    if (gap < std::chrono::seconds(c.previous_lease_duration_seconds) - 20ms)
      out << c.holder << " took over from " << c.previous_holder << " only " << gap.count()
          << " ms after its last write; ";
  }
  return out.str();
}

}  // namespace rebound::lease::testing
