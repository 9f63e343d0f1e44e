// TLS servers that are not what they claim: plaintext on a TLS port, an
// alert instead of a handshake, a handshake that stalls. Each fails its
// request with one named error, before the deadline, without a retry that
// would meet the same server, and the client keeps working. (A certificate
// for another name: ClientH1.HostNameMismatchIsRejected.)
#include "integration/fault_test.hpp"
#include "integration/fixtures.hpp"
#include "support/hostile_tls_servers.hpp"
#include "support/raw_server.hpp"

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;
using rebound::testing::hostile_tls::HostileTls;

namespace {

class HostileTlsServer : public FaultTest, public ::testing::WithParamInterface<HostileTls> {};

}  // namespace

TEST_P(HostileTlsServer, OneNamedErrorWithinTheDeadlineAndTheClientKeepsWorking) {
  const HostileTls& hostile = GetParam();
  RawServer server(hostile_tls::script_for(hostile));
  auto healthy = start_server();
  Options o;
  o.connect_timeout = 1s;  // TCP and TLS together
  o.max_attempts = 1;      // one dial: the question is what it reports
  CheckedClient c(o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.send(Request::get("https://127.0.0.1:" + std::to_string(server.port()) + "/").timeout(3s));
  const auto took = elapsed_since(t0);
  ASSERT_FALSE(r) << "status " << r->status();
  EXPECT_EQ(r.error().code(), hostile.expected) << r.error().message();
  EXPECT_EQ(r.error().reached(), progress::not_sent);
  EXPECT_EQ(r.error().message().find('\n'), std::string::npos) << r.error().message();
  EXPECT_LT(took, 4s);
  auto next = c.get(healthy->url() + "/");
  EXPECT_TRUE(next) << "the client stopped working: " << next.error().message();
}

INSTANTIATE_TEST_SUITE_P(Servers, HostileTlsServer, ::testing::ValuesIn(hostile_tls::cases()),
                         [](const auto& info) { return std::string(info.param.name); });
