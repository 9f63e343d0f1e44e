// HTTP/2 servers that break the rules, on purpose (h2c, raw frames). For
// each, the request ends with one error that names the problem, before its
// deadline, with memory bounded; a violation is not retried (it would fail
// the same way); floods are cut off rather than served forever; and the
// client keeps working for the next request on another connection.
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"
#include "support/hostile_h2_servers.hpp"
#include "support/raw_server.hpp"

#include "support/heap_in_use.hpp"

#include <gtest/gtest.h>


#include <algorithm>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::testing::hostile_h2::HostileCase;
using rebound::testing::hostile_h2::hung_up;

namespace {


class HostileH2 : public FaultTest, public ::testing::WithParamInterface<HostileCase> {};

}  // namespace

TEST_P(HostileH2, OneNamedErrorWithinTheDeadlineBoundedMemoryAndTheClientKeepsWorking) {
  const HostileCase& hostile = GetParam();
  hung_up = false;
  RawServer server(hostile_h2::script_for(hostile));
  auto healthy = start_server();
  Options o;
  o.http_version = HttpVersion::http2_prior_knowledge;
  o.max_response_body = 1u << 20;
  o.max_header_list_size = 64u << 10;
  o.ping_timeout = 1s;  // also bounds the wait for the server's SETTINGS and its ACK
  CheckedClient c(o);
  ASSERT_TRUE(c.get(healthy->url() + "/"));  // warm: the client's own allocations are made
  const auto heap_before = heap_in_use();
  constexpr auto deadline = 3s;
  const auto t0 = std::chrono::steady_clock::now();
  Request request = hostile.upload ? Request::post(server.url("/"), std::string(100'000, 'u')) : Request::get(server.url("/"));
  auto r = c.send(std::move(request.timeout(deadline)));
  const auto took = elapsed_since(t0);
  const auto heap_after = heap_in_use();

  EXPECT_LT(took, deadline + 1s) << "completed after its deadline";
  if (!hostile.expected.empty()) {
    ASSERT_FALSE(r) << "a hostile response came back as status " << r->status();
    EXPECT_TRUE(std::any_of(hostile.expected.begin(), hostile.expected.end(),
                            [&](errc e) { return r.error().code() == e; }))
        << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << "not one line: " << r.error().message();
    if (hostile.connections == 1)
      EXPECT_EQ(r.error().attempts(), 1) << "retried what fails the same way: " << r.error().message();
  } else {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), hostile.status);
  }
  EXPECT_LT(heap_after - heap_before, 16ll << 20) << "memory grew with what the server sent";
  if (hostile.client_hangs_up)
    EXPECT_TRUE(eventually([] { return hung_up.load(); }, 10s)) << "the client kept reading a flood";
  auto next = c.get(healthy->url() + "/");
  EXPECT_TRUE(next) << "the client stopped working: " << next.error().message();
  EXPECT_LE(server.connections_accepted(), hostile.connections) << "the hostile server was dialed again";
}

INSTANTIATE_TEST_SUITE_P(Servers, HostileH2, ::testing::ValuesIn(hostile_h2::cases()),
                         [](const auto& info) { return std::string(info.param.name); });
