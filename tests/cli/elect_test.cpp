// `rebound elect` as separate processes, really paused and killed: a leader
// resumed after a pause longer than its lease stops at once without writing
// again or reporting a renewal; two processes given the same identity never
// run their command at once, not even when the leader is SIGKILLed (its
// command dies with it) - and the standby's command starts within the lease
// duration and a retry period.
#include "line_process.hpp"
#include "integration/child_server.hpp"

#include "lease/lease_fixtures.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <csignal>
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


// A shell command for `rebound elect` that records "start PID NS" when it
// starts and "stop PID NS" on SIGTERM (not on SIGKILL: that end is the
// moment its elect process was killed) to `record`.
std::string recording_command(const std::string& record) {
  return "echo \"start $$ $(date +%s%N)\" >> '" + record + "'; trap 'echo \"stop $$ $(date +%s%N)\" >> \"" +
         record + "\"; exit 0' TERM; while :; do sleep 0.05; done";
}

// The record says one command ran at a time: the leader's from its start
// until its elect was killed at `killed_at`, the standby's from after that
// until its SIGTERM (start, start, stop).
void expect_one_command_at_a_time(const std::string& record, std::chrono::system_clock::time_point killed_at) {
  std::ifstream in(record);
  std::vector<std::pair<std::string, long long>> marks;  // ("start"|"stop", wall ns)
  std::string what;
  long long pid = 0, ns = 0;
  while (in >> what >> pid >> ns) marks.emplace_back(what, ns);
  ASSERT_EQ(marks.size(), 3u) << "expected start, start, stop";
  EXPECT_EQ(marks[0].first, "start");
  EXPECT_EQ(marks[1].first, "start");
  EXPECT_EQ(marks[2].first, "stop");
  const long long killed_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(killed_at.time_since_epoch()).count();
  EXPECT_LT(marks[0].second, killed_ns);
  EXPECT_GT(marks[1].second, killed_ns) << "the standby's command started before the leader's died";
}

}  // namespace

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

TEST_F(Elect, TwoProcessesGivenOneIdentityNeverRunTheCommandAtOnceEvenWhenTheLeaderIsKilled) {
  auto s = start_tls_server();
  install_lease_api(*s);
  const auto record = std::filesystem::temp_directory_path() /
                      ("rebound-elect-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(record);
  const std::string script = recording_command(record.string());
  const std::vector<std::string> timings{"--lease-duration", "2s", "--renew-deadline", "1500ms", "--retry-period",
                                         "200ms", "--grace", "2s"};
  const std::vector<std::string> command{"/bin/sh", "-c", script};
  std::map<std::string, std::unique_ptr<LineProcess>> elects;
  elects["first"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, elect_args(*s, "same", timings, command));
  elects["second"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, elect_args(*s, "same", timings, command));
  auto started = [](const LineProcess& p) {
    for (const auto& l : p.lines())
      if (event_of(l) == "command_started") return true;
    return false;
  };
  ASSERT_TRUE(wait_until([&] { return started(*elects["first"]) || started(*elects["second"]); }, 10s));
  std::this_thread::sleep_for(3s);  // both running: one leads, one waits on a record naming "same"
  const std::string leader = started(*elects["first"]) ? "first" : "second";
  const std::string standby = leader == "first" ? "second" : "first";
  ASSERT_FALSE(started(*elects[standby])) << "both ran the command\n" << all_lines(*elects[standby]);

  // The leader's command pid, to see it die with its elect process.
  pid_t command_pid = -1;
  for (const auto& l : elects[leader]->lines())
    if (event_of(l) == "command_started")
      command_pid = static_cast<pid_t>(boost::json::parse(l.text).as_object().at("pid").as_int64());
  ASSERT_GT(command_pid, 0);
  const auto killed_at_wall = std::chrono::system_clock::now();
  const auto killed_at = Clock::now();
  elects[leader]->signal(SIGKILL);
  EXPECT_EQ(elects[leader]->wait(5s), 128 + SIGKILL);
  EXPECT_TRUE(wait_until([&] { return ::kill(command_pid, 0) != 0; }, 2s))
      << "the command outlived its killed elect process";

  ASSERT_TRUE(elects[standby]->wait_for_line([](const auto& l) { return event_of(l) == "command_started"; }, 15s))
      << all_lines(*elects[standby]);
  Clock::time_point standby_started{};
  for (const auto& l : elects[standby]->lines())
    if (event_of(l) == "command_started") standby_started = l.at;
  // Takeover waits out the lease (the record says 2 s) from the standby's
  // last sight of a change, plus its retry period with jitter.
  EXPECT_LT(standby_started - killed_at, 2s + 440ms + 1500ms);
  // The command has recorded its start and set its trap before it is stopped.
  auto starts_recorded = [&] {
    std::ifstream in(record);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.rfind("start", 0) == 0;
    return n;
  };
  EXPECT_TRUE(wait_until([&] { return starts_recorded() == 2; }, 5s));
  std::this_thread::sleep_for(300ms);
  elects[standby]->signal(SIGTERM);
  EXPECT_EQ(elects[standby]->wait(10s), 0) << all_lines(*elects[standby]);

  expect_one_command_at_a_time(record.string(), killed_at_wall);
  std::filesystem::remove(record);
}

TEST_F(Elect, TheCommandRunsInOneProcessAtATimeWhileTheServerIsKilledAndRestarted) {
  // The Lease server is a real `rebound serve` with its leases on disk,
  // SIGKILLed and restarted three times while two elects run; then the
  // leading elect is SIGKILLed. The leader's command runs through the
  // restarts untouched, and the standby's starts only after the leader's
  // died, within lease duration + retry period.
  const auto dir = std::filesystem::temp_directory_path() / ("rebound-elect-restarts-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string record = (dir / "record.log").string();
  server::write_self_signed_certificate(cert, key);
  rebound::testing::ChildServer server({"--tls", "--port", "0", "--cert", cert, "--key", key, "--leases-file",
                                        (dir / "leases.json").string()});
  const std::string script = recording_command(record);
  auto args = [&](const std::string& identity) {
    return std::vector<std::string>{"elect", "--server", server.url(), "--cacert", cert, "--lease",
                                    std::string(lock_ns) + "/" + lock_name, "--identity", identity,
                                    "--exact-identity", "--json", "--lease-duration", "3s", "--renew-deadline",
                                    "2s", "--retry-period", "200ms", "--grace", "2s", "--", "/bin/sh", "-c", script};
  };
  std::map<std::string, std::unique_ptr<LineProcess>> elects;
  elects["x"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, args("x"));
  elects["y"] = std::make_unique<LineProcess>(REBOUND_CLI_PATH, args("y"));
  auto started = [](const LineProcess& p) {
    for (const auto& l : p.lines())
      if (event_of(l) == "command_started") return true;
    return false;
  };
  ASSERT_TRUE(wait_until([&] { return started(*elects["x"]) || started(*elects["y"]); }, 10s));
  const std::string leader = started(*elects["x"]) ? "x" : "y";
  const std::string standby = leader == "x" ? "y" : "x";
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(1s);
    server.restart_same_port();
  }
  std::this_thread::sleep_for(1500ms);
  ASSERT_FALSE(started(*elects[standby])) << "the standby ran the command while the leader led\n"
                                          << all_lines(*elects[standby]);
  for (const auto& l : elects[leader]->lines())
    EXPECT_NE(event_of(l), "command_stopped") << "the leader lost its lease to a server restart: " << l.text;

  const auto killed_at_wall = std::chrono::system_clock::now();
  const auto killed_at = Clock::now();
  elects[leader]->signal(SIGKILL);
  EXPECT_EQ(elects[leader]->wait(5s), 128 + SIGKILL);
  ASSERT_TRUE(elects[standby]->wait_for_line([](const auto& l) { return event_of(l) == "command_started"; }, 15s))
      << all_lines(*elects[standby]);
  Clock::time_point standby_started{};
  for (const auto& l : elects[standby]->lines())
    if (event_of(l) == "command_started") standby_started = l.at;
  EXPECT_LT(standby_started - killed_at, 3s + 200ms + 1500ms);
  std::this_thread::sleep_for(500ms);
  elects[standby]->signal(SIGTERM);
  EXPECT_EQ(elects[standby]->wait(10s), 0) << all_lines(*elects[standby]);

  expect_one_command_at_a_time(record, killed_at_wall);
  std::filesystem::remove_all(dir);
}
