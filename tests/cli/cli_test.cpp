// The `rebound` command as a user runs it: output, JSON shapes and exit
// codes of each subcommand, against a real embedded server. The demo is
// judged by its Lease server's own record, not by its verdict about itself.
#include "support/run_shell.hpp"
#include "json_lines.hpp"

#include <rebound/lease_server/lease_store.hpp>
#include <rebound/server/server.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

// Runs `rebound ARGS` with stderr folded into stdout when `with_stderr`.
rebound::testing::ShellRun run_rebound(const std::string& args, bool with_stderr = false) {
  return rebound::testing::run_shell(std::string(REBOUND_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

rebound::server::Server& tls_server() {
  static rebound::server::Server s([] {
    rebound::server::ServerOptions o;
    o.tls = true;
    return o;
  }());
  if (!s.running()) s.start();
  return s;
}

}  // namespace

TEST(Cli, HelpListsEveryOptionWithItsDefault) {
  auto r = run_rebound("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (auto cmd : {"get", "serve", "watch", "bench", "demo", "proxy"}) EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
  auto w = run_rebound("watch --help");
  EXPECT_EQ(w.exit_code, 0);
  for (auto opt : {"--interval", "--duration", "--json", "--read-idle-timeout", "--ping-timeout", "200ms"})
    EXPECT_NE(w.out.find(opt), std::string::npos) << opt;
  EXPECT_EQ(run_rebound("--version").out.rfind("rebound ", 0), 0u);
}

TEST(Cli, GetPrintsTheBodyAndVerboseReportsHttp2) {
  auto& s = tls_server();
  auto r = run_rebound("get -k " + s.url() + "/bytes/100");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 100u);
  auto v = run_rebound("get -v -k " + s.url() + "/", true);
  EXPECT_NE(v.out.find("HTTP/2"), std::string::npos) << v.out;
}

TEST(Cli, GetPriorKnowledgeSpeaksH2c) {
  rebound::server::Server plain;
  plain.start();
  auto v = run_rebound("get -v --http2-prior-knowledge " + plain.url() + "/", true);
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("< HTTP/2 200"), std::string::npos) << v.out;
}

TEST(Cli, GetExitCodesTellTransportErrorsFromHttpErrors) {
  auto& s = tls_server();
  EXPECT_EQ(run_rebound("get " + s.url() + "/").exit_code, 60);  // self-signed, not trusted
  EXPECT_EQ(run_rebound("get -k -f " + s.url() + "/status/404").exit_code, 22);
  EXPECT_EQ(run_rebound("get -k " + s.url() + "/status/404").exit_code, 0);
  EXPECT_EQ(run_rebound("get http://127.0.0.1:1/").exit_code, 7);
  auto bad = run_rebound("get 'http://host:99999/'", true);
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.out.find("99999"), std::string::npos);
  EXPECT_EQ(std::count(bad.out.begin(), bad.out.end(), '\n'), 1) << "one line: " << bad.out;
}

TEST(Cli, WatchJsonHasOneObjectPerRequestAndASummary) {
  auto& s = tls_server();
  const std::string svg = ::testing::TempDir() + "/watch.svg";
  auto r = run_rebound("watch -k " + s.url() + "/ --interval 50ms --duration 500ms --json --svg " + svg);
  EXPECT_EQ(r.exit_code, 0);
  auto lines = rebound::testing::json_lines(r.out);
  ASSERT_GE(lines.size(), 5u);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const auto& o = lines[i];
    for (auto key : {"start_ms", "end_ms", "ok", "status", "error", "conn", "reused", "attempts"})
      EXPECT_TRUE(o.contains(key)) << key;
    EXPECT_TRUE(o.at("ok").as_bool());
    EXPECT_TRUE(o.at("error").is_null());
    EXPECT_GE(o.at("end_ms").as_int64(), o.at("start_ms").as_int64());
  }
  EXPECT_TRUE(lines.back().at("summary").as_bool());
  EXPECT_EQ(lines.back().at("failed").to_number<std::uint64_t>(), 0u);
  std::ifstream in(svg);
  const std::string picture((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(picture.rfind("<svg", 0), 0u);
  EXPECT_NE(picture.find("</svg>"), std::string::npos);
}

TEST(Cli, BenchJsonReportsThroughputLatencyAndStatuses) {
  auto& s = tls_server();
  auto r = run_rebound("bench -k " + s.url() + "/ -n 2000 -c 2 -m 10 --json");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto o = boost::json::parse(r.out).as_object();
  EXPECT_EQ(o.at("requests").to_number<std::uint64_t>(), 2000u);
  EXPECT_EQ(o.at("succeeded").to_number<std::uint64_t>(), 2000u);
  EXPECT_GT(o.at("req_per_s").as_double(), 0);
  EXPECT_EQ(o.at("status").as_object().at("200").to_number<std::uint64_t>(), 2000u);
  const auto& latency = o.at("latency_ms").as_object();
  double previous = 0;
  for (auto k : {"min", "p50", "p90", "p99", "max"}) {
    ASSERT_TRUE(latency.contains(k)) << k;
    EXPECT_GE(latency.at(k).as_double(), previous) << k << ": percentiles out of order";
    previous = latency.at(k).as_double();
  }
  EXPECT_GT(latency.at("max").as_double(), 0);
}

// The demo SIGKILLs its Lease server (a `rebound serve` child) three times
// and stops it once; its --leases-file keeps the server's own record across
// those processes. What the server recorded must show: candidate-a held the
// lease from the start until after it died, renewing on the last server
// process (so through every outage before it); one takeover, by b, no
// sooner than a's lease allowed and soon after; b's release at the end.
TEST(Cli, DemoLeaderKeepsTheLeaseThroughRealKillsAsTheServerRecordedIt) {
  char tmpl[] = "/tmp/rebound-cli-demo-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string file = dir + "/leases.json";
  // Lower bound of the demo's own clock: its timeline counts from after this.
  const auto launched = std::chrono::system_clock::now();
  auto r = run_rebound("demo --json --leases-file " + file);
  // What the server recorded, read with a store of our own.
  const rebound::lease::LeaseStore store(rebound::lease::LeaseStoreOptions{.persist_path = file, .bearer_token = {}});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 2000);
  auto o = boost::json::parse(r.out).as_object();

  // What the demo did, from its timeline: (at least) three kills and a
  // graceful stop, each followed by a new server process.
  int kills = 0, graceful = 0;
  double last_up = -1, a_died = -1;
  for (const auto& e : o.at("events").as_array()) {
    const auto& ev = e.as_object();
    const std::string lane(ev.at("lane").as_string()), kind(ev.at("kind").as_string());
    if (lane == "server" && kind == "killed") ++kills;
    if (lane == "server" && kind == "stopping") ++graceful;
    if (lane == "server" && kind == "up") last_up = ev.at("t").as_double();
    if (lane == "candidate-a" && kind == "dies") a_died = ev.at("t").as_double();
  }
  EXPECT_GE(kills, 3);
  EXPECT_EQ(graceful, 1);
  ASSERT_GE(last_up, 0);
  ASSERT_GE(a_died, 0);
  const auto at = [&](double t) {
    return launched + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(t));
  };

  // The server's record.
  const auto history = store.holder_history("default", "demo-controller");
  std::string described;
  for (const auto& c : history) described += "'" + c.previous_holder + "' -> '" + c.holder + "'\n";
  ASSERT_EQ(history.size(), 3u) << described;
  EXPECT_EQ(history[0].previous_holder, "");
  EXPECT_EQ(history[0].holder, "candidate-a");
  const auto& takeover = history[1];
  EXPECT_EQ(takeover.previous_holder, "candidate-a");
  EXPECT_EQ(takeover.holder, "candidate-b");
  EXPECT_EQ(history[2].previous_holder, "candidate-b");
  EXPECT_EQ(history[2].holder, "") << "b released the lease when it stopped";

  // a was replaced only after it died, having renewed on the last server.
  EXPECT_GT(takeover.at, at(a_died)) << "b took over before a died";
  ASSERT_TRUE(takeover.previous_holder_last_write.has_value());
  EXPECT_GT(*takeover.previous_holder_last_write, at(last_up)) << "a never renewed on the last server process";
  // No two holders: b waited out a's whole lease (as the server's clock saw
  // it; 20 ms for the candidates' steady clocks) - and then not long.
  const auto gap = takeover.at - *takeover.previous_holder_last_write;
  const auto lease = std::chrono::seconds(takeover.previous_lease_duration_seconds);
  EXPECT_EQ(lease, std::chrono::seconds(4));
  EXPECT_GE(gap, lease - std::chrono::milliseconds(20));
  EXPECT_LE(gap, lease + std::chrono::seconds(3));

  const auto now = store.get("default", "demo-controller");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->spec.lease_transitions, 1);
}
