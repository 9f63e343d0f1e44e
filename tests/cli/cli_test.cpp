// The `rebound` command as a user runs it: output, JSON shapes and exit
// codes of each subcommand, against a real embedded server.
#include <rebound/server/server.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sys/wait.h>

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
};

// Runs `rebound ARGS` with stderr folded into stdout when `with_stderr`.
Run run_rebound(const std::string& args, bool with_stderr = false) {
  const std::string cmd = std::string(REBOUND_CLI_PATH) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<boost::json::object> json_lines(const std::string& text) {
  std::vector<boost::json::object> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(boost::json::parse(text.substr(start, end - start)).as_object());
    start = end + 1;
  }
  return lines;
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
  auto lines = json_lines(r.out);
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
  for (auto k : {"min", "p50", "p90", "p99", "max"}) EXPECT_TRUE(o.at("latency_ms").as_object().contains(k)) << k;
}

TEST(Cli, DemoKeepsItsLeaderThroughRestartsAndHandsOverOnce) {
  auto r = run_rebound("demo --json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 2000);
  auto o = boost::json::parse(r.out).as_object();
  const auto& v = o.at("verdict").as_object();
  EXPECT_TRUE(v.at("ok").as_bool());
  EXPECT_GE(v.at("abrupt_restarts").as_int64(), 3);
  EXPECT_TRUE(v.at("leader_kept_lease_through_outages").as_bool());
  EXPECT_EQ(v.at("takeovers").as_int64(), 1);
  EXPECT_EQ(v.at("max_simultaneous_holders").as_int64(), 1);
  int kills = 0;
  for (const auto& e : o.at("events").as_array())
    if (e.as_object().at("kind").as_string() == "killed") ++kills;
  EXPECT_GE(kills, 3);
}
