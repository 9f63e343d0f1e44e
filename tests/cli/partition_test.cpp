// A network partition, not a server restart: `rebound serve --tls` in one
// network namespace, `rebound watch` (a request every 100 ms, 1 s timeout)
// in another, joined by a veth pair; twice, the server's namespace drops
// every packet for 5 s (then 5.5 s) and then heals. The server process lives through
// it all. After each heal no request started after healing may fail, and
// the first success must come within 300 ms - not after TCP's
// retransmission backoff on the old connection or on a dial whose SYN was
// lost.
#include "line_process.hpp"
#include "netns_pair.hpp"

#include "support/peer_skip.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

long long epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Sample {
  long long start_ms, end_ms;
  bool ok;
  std::string error;
};

}  // namespace

TEST(Partition, AfterEachHealNoNewRequestFailsAndTheFirstSucceedsWithin300ms) {
  if (auto why = NetnsPair::unavailable()) REBOUND_SKIP_FOR_PEER(*why);
  std::string client_ns, server_ns;
  {
    NetnsPair net;
    client_ns = net.client_ns();
    server_ns = net.server_ns();
    LineProcess server(NetnsPair::ip_path(),
                       net.in_server({REBOUND_CLI_PATH, "serve", "--tls", "--host", net.server_address(), "--port", "8443"}));
    ASSERT_TRUE(server.wait_for_line([](const auto&) { return true; }, 10s)) << "the server did not start";
    const std::string url = "https://" + net.server_address() + ":8443/";
    LineProcess watch(NetnsPair::ip_path(), net.in_client({REBOUND_CLI_PATH, "watch", url, "-k", "--interval", "100ms",
                                                           "--timeout", "1s", "--duration", "17500ms", "--json"}));
    std::vector<long long> heals;
    std::this_thread::sleep_for(3s);
    // Two lengths, so the heal meets TCP's SYN retransmission schedule of a
    // pending dial (1 s, 3 s, 7 s after it started) at different phases: a
    // 5 s partition against 1 s request timeouts can heal just before a
    // retransmission and hide the wait.
    for (const auto length : {5000ms, 5500ms}) {
      net.partition();
      std::this_thread::sleep_for(length);
      net.heal();
      heals.push_back(epoch_ms());
      std::this_thread::sleep_for(2s);
    }
    ASSERT_GE(watch.wait(20s), 0) << "rebound watch did not end";

    std::vector<Sample> samples;
    boost::json::object summary;
    for (const auto& l : watch.lines()) {
      const auto o = boost::json::parse(l.text).as_object();
      if (o.contains("summary")) {
        summary = o;
        continue;
      }
      samples.push_back({o.at("start_ms").as_int64(), o.at("end_ms").as_int64(), o.at("ok").as_bool(),
                         o.at("error").is_null() ? "" : std::string(o.at("error").as_string())});
    }
    ASSERT_FALSE(summary.empty()) << "no summary";
    ASSERT_GT(samples.size(), 50u);
    for (std::size_t h = 0; h < heals.size(); ++h) {
      SCOPED_TRACE("heal " + std::to_string(h + 1));
      const long long heal = heals[h];
      const long long until = h + 1 < heals.size() ? heal + 1500 : heal + 100000;  // before the next partition
      int started_after = 0, failed_after = 0;
      std::optional<long long> first_success;
      for (const auto& s : samples) {
        if (s.start_ms >= heal && s.start_ms < until) {
          ++started_after;
          if (!s.ok) {
            ++failed_after;
            ADD_FAILURE() << "a request started " << s.start_ms - heal << " ms after healing failed: " << s.error;
          }
        }
        if (s.ok && s.end_ms >= heal && !first_success) first_success = s.end_ms;
      }
      EXPECT_GT(started_after, 5);
      EXPECT_EQ(failed_after, 0);
      ASSERT_TRUE(first_success.has_value()) << "never recovered";
      EXPECT_LE(*first_success - heal, 300) << "the first success came " << *first_success - heal << " ms after healing";
      std::printf("heal %zu: first success %lld ms after healing; %d requests started after it, %d failed\n", h + 1,
                  *first_success - heal, started_after, failed_after);
    }
    // Bounded dialing. Connections: the first, and one or two per heal (a
    // fresh one, perhaps the old one's retransmission getting through
    // first). Dial attempts: while partitioned, at most one fresh SYN per
    // stagger (200 ms), the stale ones cancelled - the price of noticing
    // the heal within 300 ms, since TCP retries a lost SYN only after 1 s,
    // 3 s, 7 s.
    const auto dials = summary.at("dials").as_int64();
    const auto connections = summary.at("connections").as_int64();
    std::printf("dials: %lld (failed %lld), connections: %lld\n", static_cast<long long>(dials),
                static_cast<long long>(summary.at("dial_failures").as_int64()), static_cast<long long>(connections));
    EXPECT_LE(connections, 1 + 2 * 2);
    EXPECT_LE(dials, 1 + (5000 + 5500) / 200 + 6);
  }
  // Nothing left behind: the processes were reaped, the namespaces are gone.
  EXPECT_FALSE(NetnsPair::exists(client_ns));
  EXPECT_FALSE(NetnsPair::exists(server_ns));
}
