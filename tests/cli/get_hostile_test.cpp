// `rebound get` against every hostile server the library is tested against
// (support/hostile_*_servers.hpp): the command must behave like the library.
// For each class it exits with the code `rebound get --help` documents for
// the library's error, says what went wrong in one line on stderr, and
// finishes within its --timeout; where a response is fine it exits 0 with
// the response. The real executable runs, as a user would run it.
#include "cli/run_command.hpp"
#include "support/hostile_h1_servers.hpp"
#include "support/hostile_h2_servers.hpp"
#include "support/hostile_tls_servers.hpp"
#include "support/raw_server.hpp"

#include <rebound/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

/// What `rebound get --help` promises for each error the hostile servers
/// cause, copied from the help text (not from exit_code_for: the test holds
/// the command to its documentation), and the words its stderr line must
/// contain to name the problem.
struct Documented {
  errc error;
  int exit_code;
  /// The code's entry in the help text.
  const char* help_entry;
  /// The words that name this error on stderr.
  const char* names;
};

const Documented documented[] = {
    {errc::protocol_error, 8, " 8  the server broke HTTP/1.1 or HTTP/2", "protocol error"},
    {errc::protocol_negotiation_failed, 8, " 8  the server broke HTTP/1.1 or HTTP/2", "protocol negotiation failed"},
    {errc::refused_by_server, 16, "16  stream reset or refused by the server", "refused by server"},
    {errc::stream_reset, 16, "16  stream reset or refused by the server", "stream reset"},
    {errc::deadline_exceeded, 28, "28  a time limit passed", "deadline exceeded"},
    {errc::connect_timeout, 28, "28  a time limit passed", "connect timed out"},
    {errc::tls_handshake_failed, 35, "35  TLS handshake failed", "TLS handshake failed"},
    {errc::response_too_large, 63, "63  response header or body over its limit", "response too large"},
};

const Documented& documentation_of(errc e) {
  for (const auto& d : documented)
    if (d.error == e) return d;
  throw std::logic_error(std::string("no documented exit code in this test for ") + to_string(e));
}

/// The command's deadline, and how long past it the process may take to
/// start, report and exit.
constexpr auto deadline = 3s;
constexpr auto slack = 2s;

const std::string& get_help() {
  static const std::string help = run_command(REBOUND_CLI_PATH, {"get", "--help"}, 10s).out;
  return help;
}

/// Runs `rebound get ARGS URL` with the limits the library's hostile tests
/// set: the deadline, a 1 MiB body. (There is no flag for the header limit:
/// the library's default, 256 KiB, bounds it.)
Finished rebound_get(std::vector<std::string> args, const std::string& url) {
  std::vector<std::string> all = {"get", "--timeout", std::to_string(deadline.count()) + "s", "--max-filesize",
                                  std::to_string(1 << 20)};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(url);
  // Killed well past the deadline: a hang fails its case, not the run.
  return run_command(REBOUND_CLI_PATH, all, deadline + 20s);
}

/// Output framed for a failure message, so blank and missing lines show.
std::string shown(const std::string& text) { return "\n---\n" + text + "---"; }

/// The promise for a class whose request must fail with one of `expected`:
/// the documented exit code and a single stderr line naming that same
/// error, within the deadline.
void expect_one_named_error(const Finished& run, const std::vector<errc>& expected) {
  EXPECT_FALSE(run.killed) << "still running " << run.took.count() << " ms after it started";
  EXPECT_LT(run.took, deadline + slack) << "finished after its deadline";
  for (errc e : expected)
    EXPECT_NE(get_help().find(documentation_of(e).help_entry), std::string::npos)
        << "`rebound get --help` does not list \"" << documentation_of(e).help_entry << "\"";

  const bool one_line = run.err.size() > 1 && run.err.back() == '\n' &&
                        std::count(run.err.begin(), run.err.end(), '\n') == 1;
  EXPECT_TRUE(one_line) << "stderr is not one line:" << shown(run.err);
  EXPECT_EQ(run.err.rfind("rebound get: ", 0), 0u) << shown(run.err);
  // The exit code and the words on stderr name the same accepted error.
  const bool documented_and_named = std::any_of(expected.begin(), expected.end(), [&](errc e) {
    const Documented& d = documentation_of(e);
    return run.exit_code == d.exit_code && run.err.find(d.names) != std::string::npos;
  });
  std::string accepted;
  for (errc e : expected)
    accepted += std::string(" ") + to_string(e) + " (exit " + std::to_string(documentation_of(e).exit_code) +
                ", \"" + documentation_of(e).names + "\")";
  EXPECT_TRUE(documented_and_named) << "exit " << run.exit_code << ", expected one of:" << accepted
                                    << shown(run.err);
}

/// The promise for a class where a response is fine: exit 0, nothing on
/// stderr, and with -i the status line, then the body.
void expect_response(const Finished& run, const std::string& status_line, const std::string& body) {
  EXPECT_FALSE(run.killed) << "still running " << run.took.count() << " ms after it started";
  EXPECT_LT(run.took, deadline + slack) << "finished after its deadline";
  EXPECT_EQ(run.exit_code, 0) << shown(run.err);
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out.rfind(status_line + "\r\n", 0), 0u) << shown(run.out);
  const auto head_end = run.out.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << shown(run.out);
  EXPECT_EQ(run.out.substr(head_end + 4), body);
}

class GetHostileH1 : public ::testing::TestWithParam<hostile_h1::HostileCase> {};
class GetHostileH2 : public ::testing::TestWithParam<hostile_h2::HostileCase> {};
class GetHostileTls : public ::testing::TestWithParam<hostile_tls::HostileTls> {};

}  // namespace

TEST(GetHostile, HelpListsEveryExitCodeThisTestExpects) {
  for (const auto& d : documented)
    EXPECT_NE(get_help().find(d.help_entry), std::string::npos) << d.help_entry << shown(get_help());
}

TEST_P(GetHostileH1, ExitsWithTheDocumentedCodeAndOneLineNamingTheProblemWithinTheDeadline) {
  const auto& hostile = GetParam();
  RawServer server(hostile_h1::script_for(hostile));
  if (hostile.expected) {
    expect_one_named_error(rebound_get({}, server.url("/")), {*hostile.expected});
  } else {
    // -i: the status is on stdout only with the head.
    expect_response(rebound_get({"-i"}, server.url("/")), "HTTP/1.1 " + std::to_string(hostile.status),
                    hostile.body);
  }
}

TEST_P(GetHostileH2, ExitsWithTheDocumentedCodeAndOneLineNamingTheProblemWithinTheDeadline) {
  const auto& hostile = GetParam();
  RawServer server(hostile_h2::script_for(hostile));
  // --ping-timeout 1s also bounds the wait for the server's SETTINGS and
  // its ACK, as in the library's test.
  std::vector<std::string> args = {"--http2-prior-knowledge", "--ping-timeout", "1s"};
  if (hostile.upload) args.insert(args.end(), {"-d", std::string(100'000, 'u')});
  if (!hostile.expected.empty()) {
    expect_one_named_error(rebound_get(args, server.url("/")), hostile.expected);
  } else {
    args.push_back("-i");  // the status is on stdout only with the head
    expect_response(rebound_get(args, server.url("/")), "HTTP/2 " + std::to_string(hostile.status), hostile.body);
  }
}

TEST_P(GetHostileTls, ExitsWithTheDocumentedCodeAndOneLineNamingTheProblemWithinTheDeadline) {
  const auto& hostile = GetParam();
  RawServer server(hostile_tls::script_for(hostile));
  // -k: no certificate would get far enough to be verified anyway; the
  // connect timeout covers TCP and TLS together, as in the library's test.
  const auto run = rebound_get({"-k", "--connect-timeout", "1s"},
                               "https://127.0.0.1:" + std::to_string(server.port()) + "/");
  std::vector<errc> accepted = {hostile.expected};
  // The command keeps the library's default of 4 attempts (it has no flag
  // for the library test's max_attempts = 1), and a dial that timed out is
  // retried: the --timeout may end the request first. The same class, 28.
  if (hostile.expected == errc::connect_timeout) accepted.push_back(errc::deadline_exceeded);
  expect_one_named_error(run, accepted);
}

INSTANTIATE_TEST_SUITE_P(Servers, GetHostileH1, ::testing::ValuesIn(hostile_h1::cases()),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Servers, GetHostileH2, ::testing::ValuesIn(hostile_h2::cases()),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Servers, GetHostileTls, ::testing::ValuesIn(hostile_tls::cases()),
                         [](const auto& info) { return std::string(info.param.name); });
