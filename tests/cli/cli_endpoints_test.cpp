// `rebound watch`, `rebound bench` and `rebound demo --backend etcd` over
// several endpoints of one service, run as a user runs them: real `rebound
// serve` processes (one SIGKILLed mid-watch), embedded servers for bench,
// and a real 3-member etcd cluster started by the demo itself.
#include "child_process.hpp"
#include "json_lines.hpp"
#include "support/peer_skip.hpp"
#include "support/run_shell.hpp"

#include <rebound/server/server.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

namespace {

using namespace std::chrono_literals;

rebound::testing::ShellRun run_rebound_endpoints(const std::string& args) {
  return rebound::testing::run_shell(std::string(REBOUND_CLI_PATH) + " " + args + " 2>&1");
}

rebound::process::ChildProcess serve_endpoint() {
  return rebound::process::ChildProcess(REBOUND_CLI_PATH, {"serve", "--port", "0"});
}

}  // namespace

// Two `rebound serve` processes behind one watch; the first is SIGKILLed a
// second in. Every poll still succeeds (the survivor answers), each line
// names the endpoint that served it, a poll moved off the dead one says so,
// the dead one is reported down, and the summary counts both.
TEST(CliEndpoints, WatchNamesTheServingEndpointAndKeepsPollingThroughTheSurvivor) {
  auto a = std::make_unique<rebound::process::ChildProcess>(REBOUND_CLI_PATH,
                                                              std::vector<std::string>{"serve", "--port", "0"});
  auto b = serve_endpoint();
  const std::string url_a = a->first_line(), url_b = b.first_line();
  rebound::testing::ShellRun run;
  std::thread watcher([&] {
    run = rebound::testing::run_shell(std::string(REBOUND_CLI_PATH) + " watch --json --interval 100ms --duration 2500ms " +
                                      url_a + "," + url_b + " /status/200 2>/dev/null");
  });
  std::this_thread::sleep_for(1000ms);
  a->kill();
  watcher.join();

  ASSERT_EQ(run.exit_code, 0) << run.out;  // no poll failed
  std::set<std::string> served_by;
  bool moved_off_a = false, a_down = false;
  int polls = 0;
  boost::json::object summary;
  for (const auto& line : rebound::testing::json_lines(run.out)) {
    if (line.contains("summary")) {
      summary = line;
    } else if (line.contains("state")) {  // an endpoint went down or up
      if (line.at("endpoint").as_string() == url_a && line.at("state").as_string() == "down") a_down = true;
    } else {
      ++polls;
      EXPECT_TRUE(line.at("ok").as_bool()) << boost::json::serialize(line);
      ASSERT_TRUE(line.at("endpoint").is_string()) << boost::json::serialize(line);
      served_by.insert(std::string(line.at("endpoint").as_string()));
      for (const auto& m : line.at("moved_from").as_array())
        if (m.as_object().at("endpoint").as_string() == url_a) moved_off_a = true;
    }
  }
  EXPECT_GE(polls, 15);
  EXPECT_EQ(served_by, (std::set<std::string>{url_a, url_b})) << run.out;
  EXPECT_TRUE(a_down) << run.out;
  EXPECT_TRUE(moved_off_a || a_down) << run.out;
  ASSERT_TRUE(summary.contains("endpoints")) << run.out;
  const auto& eps = summary.at("endpoints").as_array();
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_GT(eps[0].as_object().at("served").to_number<std::uint64_t>(), 0u);
  EXPECT_GT(eps[1].as_object().at("served").to_number<std::uint64_t>(), eps[0].as_object().at("served").to_number<std::uint64_t>())
      << "the survivor served every poll after the kill";
  EXPECT_GE(eps[0].as_object().at("outages").as_array().size(), 1u);
  EXPECT_EQ(summary.at("failed").as_int64(), 0);

  // The text form, with the dead one listed first: each line names the
  // endpoint that served it, the move off the dead one and its DOWN.
  auto text = run_rebound_endpoints("watch --interval 50ms --duration 300ms " + url_a + "/status/200," + url_b +
                                    "/status/200");
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("via " + url_b), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("moved off " + url_a), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("endpoint " + url_a + " DOWN"), std::string::npos) << text.out;
}

// Round robin over three embedded servers: --json counts the requests each
// one served, and together they are every request.
TEST(CliEndpoints, BenchCountsRequestsPerEndpointInJson) {
  rebound::server::Server s1, s2, s3;
  s1.start();
  s2.start();
  s3.start();
  auto r = run_rebound_endpoints("bench --json --no-progress -n 300 -c 2 " + s1.url() + "," + s2.url() + " " + s3.url() +
                                 " /status/200");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto o = boost::json::parse(r.out).as_object();
  EXPECT_EQ(o.at("succeeded").to_number<std::uint64_t>(), 300u);
  const auto& eps = o.at("endpoints").as_array();
  ASSERT_EQ(eps.size(), 3u);
  std::uint64_t sum = 0;
  for (const auto& e : eps) {
    EXPECT_GE(e.as_object().at("served").to_number<std::uint64_t>(), 50u) << r.out;  // each takes its turn
    sum += e.as_object().at("served").to_number<std::uint64_t>();
  }
  EXPECT_EQ(sum, 300u);
  EXPECT_EQ(eps[0].as_object().at("endpoint").as_string(), s1.url());

  // One URL stays on the single-endpoint path: no per-endpoint figures.
  auto one = run_rebound_endpoints("bench --json --no-progress -n 50 " + s1.url() + "/status/200");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  EXPECT_FALSE(boost::json::parse(one.out).as_object().contains("endpoints"));
}

TEST(CliEndpoints, DemoOnEtcdWithoutEtcdOrEndpointsSaysWhatIsMissing) {
  auto r = rebound::testing::run_shell("PATH=/nonexistent " + std::string(REBOUND_CLI_PATH) + " demo --backend etcd 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("etcd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--endpoints"), std::string::npos) << r.out;
}

// The demo starts its own 3-member cluster, kills the member the leader
// talks to once, then the leader: exit 0 means the leader kept its lease
// throughout, one leader at a time, and a timely takeover. The verdict's
// figures are checked too.
TEST(CliEndpoints, DemoOnEtcdKeepsTheLeaderThroughAMemberKill) {
  if (std::system("command -v etcd >/dev/null 2>&1") != 0)
    REBOUND_SKIP_FOR_PEER("etcd is not installed (Debian package etcd-server)");
  auto r = rebound::testing::run_shell(std::string(REBOUND_CLI_PATH) + " demo --backend etcd --kills 1 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto v = boost::json::parse(r.out).as_object().at("verdict").as_object();
  EXPECT_TRUE(v.at("ok").as_bool());
  EXPECT_EQ(v.at("members").as_array().size(), 3u);
  EXPECT_EQ(v.at("members_killed").as_array().size(), 1u);
  EXPECT_EQ(v.at("max_simultaneous_leaders").as_int64(), 1);
  EXPECT_EQ(v.at("leaderless_samples_during_kills").as_int64(), 0);
  EXPECT_EQ(v.at("takeovers").as_int64(), 1);
}
