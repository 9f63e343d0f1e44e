// HTTP/1.1 servers that break the rules, on purpose. For each, the client
// gives one request one error that names the problem, before the request's
// deadline, with memory bounded, without retrying what will fail the same
// way, and keeps working for the next request on another connection.
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"
#include "support/hostile_h1_servers.hpp"
#include "support/raw_server.hpp"

#include "support/heap_in_use.hpp"

#include <gtest/gtest.h>


using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::testing::hostile_h1::HostileCase;

namespace {


class HostileH1 : public FaultTest, public ::testing::WithParamInterface<HostileCase> {};

}  // namespace

TEST_P(HostileH1, OneNamedErrorWithinTheDeadlineBoundedMemoryAndTheClientKeepsWorking) {
  const HostileCase& hostile = GetParam();
  RawServer server(hostile_h1::script_for(hostile));
  auto healthy = start_server();
  Options o;
  o.max_response_body = 1u << 20;
  o.max_header_list_size = 64u << 10;
  CheckedClient c(o);
  ASSERT_TRUE(c.get(healthy->url() + "/"));  // warm: the client's own allocations are made
  const auto heap_before = heap_in_use();
  constexpr auto deadline = 3s;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.send(Request::get(server.url("/")).timeout(deadline));
  const auto took = elapsed_since(t0);
  const auto heap_after = heap_in_use();

  EXPECT_LT(took, deadline + 1s) << "completed after its deadline";
  if (hostile.expected) {
    ASSERT_FALSE(r) << "a hostile response came back as status " << r->status();
    EXPECT_EQ(r.error().code(), *hostile.expected) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "not one line: " << r.error().message();
    EXPECT_EQ(r.error().attempts(), 1) << "retried what fails the same way: " << r.error().message();
  } else {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), hostile.status);
    for (const auto& [name, value] : r->headers())
      EXPECT_EQ(value.find_first_of("\r\n"), std::string::npos) << name << " kept a line break";
  }
  EXPECT_LT(heap_after - heap_before, 16ll << 20) << "memory grew with what the server sent";
  auto next = c.get(healthy->url() + "/");
  EXPECT_TRUE(next) << "the client stopped working: " << next.error().message();
  EXPECT_EQ(server.connections_accepted(), 1) << "the hostile server was dialed again";
}

INSTANTIATE_TEST_SUITE_P(Servers, HostileH1, ::testing::ValuesIn(hostile_h1::cases()),
                         [](const auto& info) { return std::string(info.param.name); });
