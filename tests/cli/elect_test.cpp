// `rebound elect` as separate processes, really paused, stopped and killed.
//
// Without a command: a leader resumed after a pause longer than its lease
// stops at once without writing again or reporting a renewal.
//
// With a command (ElectFence, run with cgroup containment and with it
// forced off): the command is a worker that hides from its elect - a
// grandchild in a session of its own that ignores SIGTERM, or a setuid
// binary - and records a tick every 100 ms. Whatever happens to the
// leading elect (SIGSTOP, Ctrl-Z's SIGTSTP to its group, SIGKILL, SIGHUP, a
// stdout nobody reads), the workers' ticks never overlap between
// candidates, and no process of the command (nor the watchdog) is left at
// the end. A command that cannot start releases the lease; a grace that
// does not fit in the safety margin is refused.
#include "line_process.hpp"
#include "integration/child_server.hpp"

#include "lease/lease_fixtures.hpp"
#include "run_command.hpp"
#include "support/peer_skip.hpp"
#include "elect/containment.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace rebound;
using namespace rebound::lease;
using namespace rebound::lease::testing;
using rebound::testing::LineProcess;

namespace {

// What reached the server: each write (POST, PUT) and the holder it names.
struct Write {
  Clock::time_point at;
  std::string holder;
};

class WriteLog {
 public:
  void add(const std::string& holder) {
    std::lock_guard lock(mutex_);
    writes_.push_back({Clock::now(), holder});
  }
  std::vector<Write> after(Clock::time_point t, const std::string& holder) const {
    std::lock_guard lock(mutex_);
    std::vector<Write> out;
    for (const auto& w : writes_)
      if (w.at > t && w.holder == holder) out.push_back(w);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Write> writes_;
};

// The Lease API on `s`, logging every write's holder before the store applies it.
std::shared_ptr<LeaseStore> install_logged(server::Server& s, std::shared_ptr<WriteLog> log) {
  auto store = std::make_shared<LeaseStore>();
  s.route(std::string(lease_api_prefix) + "*", [store, log](const server::ServerRequest& r) {
    if (r.method == "PUT" || r.method == "POST") {
      try {
        const auto body = boost::json::parse(r.body).as_object();
        const auto* spec = body.if_contains("spec");
        const auto* holder = spec && spec->is_object() ? spec->as_object().if_contains("holderIdentity") : nullptr;
        log->add(holder && holder->is_string() ? std::string(holder->as_string()) : "");
      } catch (const std::exception&) {
        log->add("?");
      }
    }
    return store->handle(r);
  });
  return store;
}

std::vector<std::string> elect_args(const server::Server& s, const std::string& identity,
                                    const std::vector<std::string>& timings, const std::vector<std::string>& command = {}) {
  std::vector<std::string> args{"elect", "--server", s.url(), "--cacert", s.certificate_file(), "--lease",
                                std::string(lock_ns) + "/" + lock_name, "--identity", identity, "--exact-identity",
                                "--json"};
  args.insert(args.end(), timings.begin(), timings.end());
  if (!command.empty()) {
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
  }
  return args;
}

// The JSON line's "event" (or "" when the line is not an event).
std::string event_of(const LineProcess::Line& l) {
  try {
    const auto v = boost::json::parse(l.text);
    if (const auto* e = v.as_object().if_contains("event")) return std::string(e->as_string());
  } catch (const std::exception&) {
  }
  return {};
}

std::string all_lines(const LineProcess& p) {
  std::string out;
  for (const auto& l : p.lines()) out += l.text + "\n";
  return out;
}

class Elect : public FdBaselineTest {};


namespace fs = std::filesystem;

// A scratch directory any user may write to (the setuid worker runs as
// nobody), holding the ticks record; its path names every process of the
// test's commands (and their elects and watchdogs) in /proc.
class Scratch {
 public:
  explicit Scratch(const std::string& name)
      : dir_(fs::temp_directory_path() / ("rebound-elect-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::all);
  }
  ~Scratch() { fs::remove_all(dir_); }
  const fs::path& dir() const { return dir_; }
  std::string record() const { return (dir_ / "ticks.log").string(); }

 private:
  fs::path dir_;
};

// One worker's ticks without a gap of more than 400 ms (it ticks every 100).
struct TickRun {
  std::string id;
  long long first_ns = 0, last_ns = 0;
  int ticks = 0;
};

struct Tick {
  std::string id;
  long long ns = 0;
  pid_t pid = 0;
};

std::vector<Tick> ticks_in(const std::string& record) {
  std::ifstream in(record);
  std::vector<Tick> out;
  std::string word;
  Tick t;
  while (in >> word >> t.id >> t.ns >> t.pid)
    if (word == "tick") out.push_back(t);
  return out;
}

int ticks_of(const std::string& record, const std::string& id) {
  const auto all = ticks_in(record);
  return static_cast<int>(std::count_if(all.begin(), all.end(), [&](const Tick& t) { return t.id == id; }));
}

std::vector<TickRun> tick_runs(const std::string& record) {
  auto ticks = ticks_in(record);
  std::sort(ticks.begin(), ticks.end(), [](const Tick& a, const Tick& b) { return a.ns < b.ns; });
  std::map<std::string, std::vector<TickRun>> by_id;
  for (const auto& t : ticks) {
    auto& runs = by_id[t.id];
    if (runs.empty() || t.ns - runs.back().last_ns > 400'000'000) runs.push_back({t.id, t.ns, t.ns, 0});
    runs.back().last_ns = t.ns;
    ++runs.back().ticks;
  }
  std::vector<TickRun> out;
  for (const auto& [id, runs] : by_id) out.insert(out.end(), runs.begin(), runs.end());
  return out;
}

// "" when no two workers of different candidates ran at once, else which.
std::string overlapping_runs(const std::string& record) {
  const auto runs = tick_runs(record);
  std::ostringstream out;
  for (const auto& a : runs)
    for (const auto& b : runs)
      if (a.id < b.id && a.first_ns <= b.last_ns && b.first_ns <= a.last_ns)
        out << a.id << " ticked from " << a.first_ns << " to " << a.last_ns << " (" << a.ticks << " ticks) while "
            << b.id << " ticked from " << b.first_ns << " to " << b.last_ns << " (" << b.ticks << "); ";
  return out.str();
}

// Live processes (not zombies) whose command line mentions `token`.
std::vector<std::string> processes_naming(const std::string& token) {
  std::vector<std::string> found;
  DIR* proc = ::opendir("/proc");
  while (proc && (errno = 0, true)) {
    const dirent* e = ::readdir(proc);
    if (!e) break;
    const std::string pid = e->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos || std::stoi(pid) == ::getpid()) continue;
    std::ifstream cmdline("/proc/" + pid + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find(token) == std::string::npos) continue;
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z') continue;
    std::replace(args.begin(), args.end(), '\0', ' ');
    found.push_back(pid + ": " + args);
  }
  if (proc) ::closedir(proc);
  return found;
}

std::string leftovers(const Scratch& scratch) {
  std::vector<std::string> left;
  wait_until([&] { return (left = processes_naming(scratch.record())).empty(); }, 5s);
  std::string out;
  for (const auto& l : left) out += l + "\n";
  return out;
}

bool printed(const LineProcess& p, const std::string& event) {
  for (const auto& l : p.lines())
    if (event_of(l) == event) return true;
  return false;
}

std::size_t index_of(const LineProcess& p, const std::string& event) {
  const auto lines = p.lines();
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (event_of(lines[i]) == event) return i;
  return lines.size();
}

// Why a cgroup of our own cannot be made here ("" when it can): the
// containment's own search, then a group created and removed.
std::string cgroup_unusable_reason() {
  std::string why;
  const auto ours = cli::elect::own_cgroup_directory(why);
  if (!ours) return why;
  const std::string probe = *ours + "/rebound-elect-test-probe-" + std::to_string(::getpid());
  if (::mkdir(probe.c_str(), 0755) != 0) return "cannot create " + probe + ": " + std::strerror(errno);
  const bool kill_file = ::access((probe + "/cgroup.kill").c_str(), W_OK) == 0;
  ::rmdir(probe.c_str());
  return kill_file ? "" : "no cgroup.kill (Linux < 5.14)";
}

// Short timings: a lease of 2 s, renewals every 200 ms, a margin of 1 s -
// so the command's grace is 500 ms and a takeover comes ~2.4 s after a stop.
const std::vector<std::string> fence_timings{"--lease-duration", "2s", "--renew-deadline", "1s", "--retry-period",
                                              "200ms"};

// The worker command: a detached grandchild that ignores SIGTERM.
std::vector<std::string> hiding_worker(const Scratch& scratch, const std::string& id) {
  return {TICK_WORKER_PATH, scratch.record(), id, "--detach", "--ignore-term"};
}

// `rebound elect` for `identity` against a child `rebound serve` at `url`
// (TLS, trusting `cert`): a 3 s lease, its command the hiding worker.
std::vector<std::string> elect_on_child_args(const std::string& url, const std::string& cert, const Scratch& scratch,
                                             const std::string& identity) {
  std::vector<std::string> a{"elect", "--server", url, "--cacert", cert, "--lease",
                             std::string(lock_ns) + "/" + lock_name, "--identity", identity,
                             "--exact-identity", "--json", "--lease-duration", "3s", "--renew-deadline",
                             "2s", "--retry-period", "200ms", "--"};
  const auto worker = hiding_worker(scratch, identity);
  a.insert(a.end(), worker.begin(), worker.end());
  return a;
}

}  // namespace

class ElectFence : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cgroup")
      if (const auto why = cgroup_unusable_reason(); !why.empty()) REBOUND_SKIP_FOR_PEER("cgroup containment: " + why);
    server_ = start_tls_server();
    store_ = install_lease_api(*server_);
  }

  std::unique_ptr<LineProcess> elect(const std::string& identity, const std::vector<std::string>& command,
                                     LineProcess::Options options = {}, std::vector<std::string> more = {}) {
    auto args = elect_args(*server_, identity, fence_timings);
    args.insert(args.end(), {"--containment", GetParam()});
    args.insert(args.end(), more.begin(), more.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return std::make_unique<LineProcess>(REBOUND_CLI_PATH, args, options);
  }

  // Starts `identity`'s elect and waits until it leads and its worker ticks.
  std::unique_ptr<LineProcess> leading(const std::string& identity, const std::vector<std::string>& command,
                                       const Scratch& scratch, LineProcess::Options options = {}) {
    auto p = elect(identity, command, options);
    const bool ticking = wait_until([&] { return ticks_of(scratch.record(), identity) >= 2; }, 10s);
    EXPECT_TRUE(ticking) << identity << "'s command never ticked\n" << (options.read_stdout ? all_lines(*p) : "");
    if (options.read_stdout) {
      const auto lines = p->lines();
      EXPECT_FALSE(lines.empty() || event_of(lines.front()) != "containment" ||
                   lines.front().text.find("\"mode\":\"" + GetParam() + "\"") == std::string::npos)
          << "the first event must name the containment in use\n" << all_lines(*p);
    }
    return p;
  }

  // After `fault` to the leader: the standby's worker starts and ticks;
  // then both stop; no overlap, nothing left.
  void expect_takeover_without_overlap(LineProcess& leader, const Scratch& scratch,
                                       const std::function<void()>& after_takeover = {}) {
    auto standby = elect("b", hiding_worker(scratch, "b"));
    ASSERT_TRUE(wait_until([&] { return ticks_of(scratch.record(), "b") >= 5; }, 15s))
        << "the standby never took over\n" << all_lines(*standby);
    if (after_takeover) after_takeover();
    standby->signal(SIGTERM);
    EXPECT_EQ(standby->wait(10s), 0) << all_lines(*standby);
    leader.signal(SIGCONT);
    leader.signal(SIGTERM);
    leader.wait(10s);
    EXPECT_EQ(overlapping_runs(scratch.record()), "");
    EXPECT_EQ(leftovers(scratch), "") << "processes of the commands outlived their elects";
  }

  // The lease's holder as the server has it ("" when released).
  std::string holder() const {
    const auto lease = store_->get(lock_ns, lock_name);
    return lease ? lease->spec.holder_identity : "<no lease>";
  }

  std::unique_ptr<server::Server> server_;
  std::shared_ptr<LeaseStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Containment, ElectFence, ::testing::Values("cgroup", "subreaper"));

TEST_P(ElectFence, APausedElectsCommandIsStoppedAtItsBoundBeforeTheStandbyTakesOver) {
  Scratch scratch("sigstop-" + GetParam());
  auto leader = leading("a", hiding_worker(scratch, "a"), scratch);
  leader->signal(SIGSTOP);  // a stall longer than the lease: the watchdog outside it holds the bound
  expect_takeover_without_overlap(*leader, scratch);
}

TEST_P(ElectFence, CtrlZOnElectsProcessGroupDoesNotStopTheWatchdog) {
  Scratch scratch("sigtstp-" + GetParam());
  auto leader = leading("a", hiding_worker(scratch, "a"), scratch, {.own_group = true});
  ::kill(-leader->pid(), SIGTSTP);  // what the terminal sends to the foreground job
  expect_takeover_without_overlap(*leader, scratch);
}

TEST_P(ElectFence, AKilledElectTakesItsWholeCommandTreeWithIt) {
  Scratch scratch("sigkill-" + GetParam());
  auto leader = leading("a", hiding_worker(scratch, "a"), scratch);
  leader->signal(SIGKILL);
  EXPECT_EQ(leader->wait(5s), 128 + SIGKILL);
  // Stopped within the grace (500 ms), not at the lease's end.
  const int ticks = ticks_of(scratch.record(), "a");
  std::this_thread::sleep_for(1500ms);
  EXPECT_LE(ticks_of(scratch.record(), "a"), ticks + 8) << "the worker kept ticking after its elect died";
  expect_takeover_without_overlap(*leader, scratch);
}

TEST_P(ElectFence, SighupStopsTheCommandThenReleasesTheLease) {
  Scratch scratch("sighup-" + GetParam());
  auto leader = leading("a", hiding_worker(scratch, "a"), scratch);
  leader->signal(SIGHUP);  // the terminal closed
  EXPECT_EQ(leader->wait(5s), 0) << all_lines(*leader);
  EXPECT_LT(index_of(*leader, "command_stopped"), index_of(*leader, "released")) << all_lines(*leader);
  EXPECT_EQ(holder(), "");
  EXPECT_EQ(leftovers(scratch), "");
}

TEST_P(ElectFence, AStdoutNobodyReadsBlocksNeitherLeadershipNorTheStop) {
  Scratch scratch("stdout-" + GetParam());
  auto leader = leading("a", hiding_worker(scratch, "a"), scratch, {.read_stdout = false});
  // Events fill the 4 KiB pipe within a few seconds; leadership (and the
  // worker under it) must go on past several lease durations.
  std::this_thread::sleep_for(6s);
  const int ticks = ticks_of(scratch.record(), "a");
  EXPECT_TRUE(wait_until([&] { return ticks_of(scratch.record(), "a") > ticks + 2; }, 2s)) << "the worker stopped";
  EXPECT_EQ(holder(), "a");
  leader->signal(SIGTERM);
  EXPECT_EQ(leader->wait(8s), 0) << "rebound elect hung on its blocked standard output";
  EXPECT_EQ(holder(), "");
  EXPECT_EQ(leftovers(scratch), "");
}

TEST_P(ElectFence, ACommandThatCannotStartReleasesTheLeaseAndExitsAsAShellWould) {
  Scratch scratch("nostart-" + GetParam());
  auto p = elect("a", {(scratch.dir() / "no-such-command").string()});
  EXPECT_EQ(p->wait(10s), 127) << all_lines(*p);
  EXPECT_TRUE(printed(*p, "command_failed")) << all_lines(*p);
  EXPECT_EQ(holder(), "") << "the lease was not released";
  EXPECT_EQ(leftovers(scratch), "");
}

TEST_P(ElectFence, ASetuidWorkerStillDiesWithItsKilledElect) {
  // A setuid binary clears the parent-death signal at exec: only a
  // watchdog outside elect can reach it. A root-owned setuid binary run by
  // root changes nothing, so the worker is owned by nobody.
  if (::geteuid() != 0) REBOUND_SKIP_FOR_PEER("making a setuid-nobody binary needs root");
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  Scratch scratch("setuid-" + GetParam());
  const auto worker = scratch.dir() / "tick_worker_setuid";
  fs::copy_file(TICK_WORKER_PATH, worker);
  ASSERT_EQ(::chown(worker.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  ASSERT_EQ(::chmod(worker.c_str(), 04755), 0);
  auto leader = leading("a", {worker.string(), scratch.record(), "a", "--ignore-term"}, scratch);
  const auto ticks = ticks_in(scratch.record());
  ASSERT_FALSE(ticks.empty());
  std::ifstream status("/proc/" + std::to_string(ticks.back().pid) + "/status");
  std::string line, uids;
  while (std::getline(status, line))
    if (line.rfind("Uid:", 0) == 0) uids = line;
  std::istringstream fields(uids.substr(4));
  unsigned real = 0, effective = 0;
  fields >> real >> effective;
  EXPECT_EQ(effective, nobody->pw_uid) << "the worker did not run setuid: " << uids;
  leader->signal(SIGKILL);
  EXPECT_EQ(leader->wait(5s), 128 + SIGKILL);
  expect_takeover_without_overlap(*leader, scratch);
}

TEST_F(Elect, AGraceLongerThanTheSafetyMarginIsRefused) {
  // The margin is 1 s (2 s lease, 1 s renew deadline): 500 ms of grace fit,
  // 800 ms do not.
  auto run = [](const std::string& grace) {
    std::vector<std::string> args{"elect", "--server", "https://127.0.0.1:1", "--lease", "x"};
    args.insert(args.end(), fence_timings.begin(), fence_timings.end());
    args.insert(args.end(), {"--grace", grace, "--duration", "200ms", "--", "true"});
    return rebound::testing::run_command(REBOUND_CLI_PATH, args, 10s);
  };
  const auto refused = run("800ms");
  EXPECT_EQ(refused.exit_code, 105) << refused.err;
  EXPECT_NE(refused.err.find("--grace"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("safety margin"), std::string::npos) << refused.err;
  const auto accepted = run("500ms");
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
}

TEST_F(Elect, APausedLeaderStopsAtOnceOnResumeWithoutWritingAgainOrReportingARenewal) {
  auto s = start_tls_server();
  auto writes = std::make_shared<WriteLog>();
  auto store = install_logged(*s, writes);
  // lease 3 s -> the record says 3; leadership lasts 2 s after each write's send.
  const std::vector<std::string> timings{"--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "300ms"};
  LineProcess a(REBOUND_CLI_PATH, elect_args(*s, "a", timings));
  ASSERT_TRUE(a.wait_for_line([](const auto& l) { return event_of(l) == "acquired"; }, 10s)) << all_lines(a);

  Recorder rec;
  auto cfg = candidate(*s, "b", rec);
  cfg.lease_duration = 3s;
  cfg.renew_deadline = 2s;
  cfg.retry_period = 300ms;
  LeaderElector b(cfg);
  b.start();
  ASSERT_TRUE(wait_until([&] { return rec.count(ElectionEventKind::held_by_other, "b") >= 1; }, 10s)) << rec.timeline();

  a.signal(SIGSTOP);  // a frozen VM, a long stall: longer than the lease
  ASSERT_TRUE(wait_until([&] { return b.is_leader(); }, 15s)) << rec.timeline();
  std::this_thread::sleep_for(300ms);
  const auto resumed = Clock::now();
  a.signal(SIGCONT);

  ASSERT_TRUE(a.wait_for_line([&](const auto& l) { return l.at > resumed && event_of(l) == "lost"; }, 5s))
      << all_lines(a);
  Clock::time_point lost_at{};
  std::string lost_line;
  for (const auto& l : a.lines())
    if (l.at > resumed && event_of(l) == "lost" && lost_at == Clock::time_point{}) {
      lost_at = l.at;
      lost_line = l.text;
    }
  EXPECT_LT(lost_at - resumed, 1s) << "the resumed leader took too long to stop";
  EXPECT_NE(lost_line.find("expired"), std::string::npos) << lost_line;
  for (const auto& l : a.lines())
    EXPECT_FALSE(l.at > resumed && event_of(l) == "renewed") << "a renewal reported after the pause: " << l.text;
  std::this_thread::sleep_for(1s);  // room for a write, were one coming
  EXPECT_TRUE(writes->after(resumed, "a").empty()) << "the resumed leader wrote the lease again";
  EXPECT_TRUE(b.is_leader());
  EXPECT_EQ(store->get(lock_ns, lock_name)->spec.holder_identity, "b");
  EXPECT_EQ(premature_takeovers(*store), "") << describe_history(*store);
  b.stop();
}

TEST_F(Elect, TheCommandRunsInOneProcessAtATimeWhileTheServerIsKilledAndRestarted) {
  // The Lease server is a real `rebound serve` with its leases on disk,
  // SIGKILLed and restarted three times while two elects run; then the
  // leading elect is SIGKILLed. The leader's command runs through the
  // restarts untouched, and the standby's starts only after the leader's
  // is gone, within lease duration + retry period.
  Scratch scratch("restarts");
  const std::string cert = (scratch.dir() / "cert.pem").string(), key = (scratch.dir() / "key.pem").string();
  server::write_self_signed_certificate(cert, key);
  rebound::testing::ChildServer server({"--tls", "--port", "0", "--cert", cert, "--key", key, "--leases-file",
                                        (scratch.dir() / "leases.json").string()});
  auto args = [&](const std::string& identity) { return elect_on_child_args(server.url(), cert, scratch, identity); };
  std::map<std::string, std::unique_ptr<LineProcess>> elects;
  elects["x"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, args("x"));
  elects["y"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, args("y"));
  ASSERT_TRUE(wait_until([&] { return printed(*elects["x"], "command_started") || printed(*elects["y"], "command_started"); }, 10s));
  const std::string leader = printed(*elects["x"], "command_started") ? "x" : "y";
  const std::string standby = leader == "x" ? "y" : "x";
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1s);
    server.restart_same_port();
  }
  std::this_thread::sleep_for(1500ms);
  ASSERT_FALSE(printed(*elects[standby], "command_started")) << "the standby ran the command while the leader led\n"
                                                             << all_lines(*elects[standby]);
  EXPECT_FALSE(printed(*elects[leader], "command_stopped")) << "the leader lost its lease to a server restart\n"
                                                            << all_lines(*elects[leader]);

  const auto killed_at = Clock::now();
  elects[leader]->signal(SIGKILL);
  EXPECT_EQ(elects[leader]->wait(5s), 128 + SIGKILL);
  ASSERT_TRUE(elects[standby]->wait_for_line([](const auto& l) { return event_of(l) == "command_started"; }, 15s))
      << all_lines(*elects[standby]);
  Clock::time_point standby_started{};
  for (const auto& l : elects[standby]->lines())
    if (event_of(l) == "command_started") standby_started = l.at;
  EXPECT_LT(standby_started - killed_at, 3s + 200ms + 1500ms);
  EXPECT_TRUE(wait_until([&] { return ticks_of(scratch.record(), standby) >= 3; }, 5s));
  elects[standby]->signal(SIGTERM);
  EXPECT_EQ(elects[standby]->wait(10s), 0) << all_lines(*elects[standby]);

  EXPECT_EQ(overlapping_runs(scratch.record()), "");
  EXPECT_GE(ticks_of(scratch.record(), leader), 30) << "the leader's worker did not run through the restarts";
  EXPECT_EQ(leftovers(scratch), "");
}

TEST_F(Elect, AMemoryOnlyServerRestartedUnderALeaderNeverRunsTwoCommands) {
  // `rebound serve --leases` forgets every lease when it restarts. The
  // standby then finds no lease; it must not take over while the leader's
  // command may still run: it treats the vanished lease as held until it
  // would have expired, and the server holds writes for the longest lease
  // (--max-lease-duration) after it starts. The leader cannot renew during
  // the hold and may lose its lease: one command at a time, whichever.
  Scratch scratch("forgetful");
  const std::string cert = (scratch.dir() / "cert.pem").string(), key = (scratch.dir() / "key.pem").string();
  server::write_self_signed_certificate(cert, key);
  rebound::testing::ChildServer server(
      {"--tls", "--port", "0", "--cert", cert, "--key", key, "--leases", "--max-lease-duration", "3s"});
  auto args = [&](const std::string& identity) { return elect_on_child_args(server.url(), cert, scratch, identity); };
  std::map<std::string, std::unique_ptr<LineProcess>> elects;
  elects["x"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, args("x"));
  ASSERT_TRUE(wait_until([&] { return ticks_of(scratch.record(), "x") >= 3; }, 10s)) << all_lines(*elects["x"]);
  elects["y"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, args("y"));
  std::this_thread::sleep_for(1s);  // y has seen x's lease held
  auto started = [&] {
    int n = 0;
    for (const auto& [id, p] : elects)
      for (const auto& l : p->lines()) n += event_of(l) == "command_started";
    return n;
  };
  const int before = started();
  server.restart_same_port();
  // x cannot renew through the hold and stops; past the hold and x's lease
  // someone leads again.
  ASSERT_TRUE(wait_until([&] { return started() > before; }, 20s))
      << all_lines(*elects["x"]) << all_lines(*elects["y"]);
  std::this_thread::sleep_for(1s);
  for (auto& [id, p] : elects) p->signal(SIGTERM);
  for (auto& [id, p] : elects) EXPECT_EQ(p->wait(10s), 0) << all_lines(*p);
  EXPECT_EQ(overlapping_runs(scratch.record()), "");
  EXPECT_EQ(leftovers(scratch), "");
}
