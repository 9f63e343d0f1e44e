// The client against real HTTP/2 servers from Debian - nghttpd, h2o and
// nginx - started on 127.0.0.1 by the tests, over TLS (h2 chosen by ALPN)
// and h2c (prior knowledge): whole bodies both ways, HEAD, 204 and 304
// without bodies, a response that arrives before the upload ends, a hundred
// streams multiplexed on one connection, and the ALPN fallback to HTTP/1.1
// (or, against the HTTP/2-only nghttpd, a prompt failure).
// A server that is missing or will not start makes its tests skip with the
// reason; a server that cannot do a case (nghttpd has no 204) skips that case.
#include "support/peer_skip.hpp"
#include "interop/peers.hpp"

#include <rebound/rebound.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

using namespace rebound;
using namespace rebound::interop;
using namespace std::chrono_literals;

namespace {

struct Param {
  PeerKind kind;
  Transport transport;
};

// Shown by GoogleTest and ctest instead of the parameter's raw bytes.
void PrintTo(const Param& p, std::ostream* os) { *os << to_string(p.kind) << " over " << to_string(p.transport); }

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return std::string(to_string(info.param.kind)) + "_" + to_string(info.param.transport);
}

std::string describe(const Error& e) { return e.message(); }

// Sends every request at once; waits until all complete or `limit` passes.
// A request still running at the limit is left as nullopt (the Client's
// destruction later fails it into state the callbacks still share).
std::vector<std::optional<Result<Response>>> send_all(Client& c, std::vector<Request> requests,
                                                      std::chrono::seconds limit) {
  struct Shared {
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::optional<Result<Response>>> results;
    std::size_t done = 0;
  };
  auto shared = std::make_shared<Shared>();
  shared->results.resize(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i)
    c.send_async(std::move(requests[i]), [shared, i](Result<Response> r) {
      std::lock_guard lock(shared->m);
      shared->results[i].emplace(std::move(r));
      ++shared->done;
      shared->cv.notify_all();
    });
  std::unique_lock lock(shared->m);
  shared->cv.wait_for(lock, limit, [&] { return shared->done == shared->results.size(); });
  return shared->results;
}

class Interop : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    auto started = start_peer(GetParam().kind, GetParam().transport);
    if (!started.peer) REBOUND_SKIP_FOR_PEER(started.skip_reason);
    peer_ = std::move(started.peer);
  }

  // h2 over TLS by ALPN (automatic), or h2c by prior knowledge.
  Options options() const {
    Options o;
    o.tls.ca_file = peer_->ca_file();
    o.http_version = GetParam().transport == Transport::tls ? HttpVersion::automatic
                                                            : HttpVersion::http2_prior_knowledge;
    o.connect_timeout = 5s;
    o.request_timeout = 30s;
    return o;
  }

  std::string url(const std::string& path) const { return peer_->url(path); }

  // A GET of /small.txt that must succeed over HTTP/2 on connection `id`.
  void expect_small_get_on(Client& c, std::uint64_t id) {
    auto r = c.get(url("/small.txt"));
    ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->protocol(), Protocol::http2);
    EXPECT_EQ(r->body(), small_file_body());
    EXPECT_EQ(r->connection_id(), id) << "the connection did not stay usable";
  }

  std::unique_ptr<Peer> peer_;
};

// The ALPN fallback only exists over TLS: servers that speak HTTP/1.1 over
// TLS too, and nghttpd, which speaks HTTP/2 only.
class InteropHttp1OverTls : public Interop {};
class InteropHttp2OnlyTls : public Interop {};

}  // namespace

TEST_P(Interop, SmallGetReturnsTheFileOverHttp2) {
  Client c(options());
  auto r = c.get(url("/small.txt"));
  ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->protocol(), Protocol::http2);
  EXPECT_EQ(r->body(), small_file_body());
  EXPECT_EQ(r->headers().value_or("content-length", ""), std::to_string(small_file_body().size()));

  auto again = c.get(url("/small.txt"));
  ASSERT_TRUE(again) << describe(again.error()) << peer_->diagnostics();
  EXPECT_EQ(again->body(), small_file_body());
  EXPECT_TRUE(again->reused_connection());
  EXPECT_EQ(again->connection_id(), r->connection_id());
  EXPECT_EQ(c.counters().dials, 1u);
}

TEST_P(Interop, MebibyteGetReturnsEveryByte) {
  Client c(options());
  auto r = c.get(url("/big.bin"));
  ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->protocol(), Protocol::http2);
  ASSERT_EQ(r->body().size(), big_file_body().size());
  EXPECT_TRUE(r->body() == big_file_body()) << "the body differs from the file";
}

TEST_P(Interop, MebibytePostIsEchoedByteForByte) {
  if (peer_->traits().echo_path.empty()) GTEST_SKIP() << peer_->traits().no_echo_reason;
  Client c(options());
  auto small = c.send(Request::post(url(peer_->traits().echo_path), "a small body"));
  ASSERT_TRUE(small) << describe(small.error()) << peer_->diagnostics();
  EXPECT_EQ(small->status(), 200);
  EXPECT_EQ(small->protocol(), Protocol::http2);
  EXPECT_EQ(small->body(), "a small body");

  // Larger than every default HTTP/2 window: the upload needs the server's
  // WINDOW_UPDATEs, the echo the client's.
  auto big = c.send(Request::post(url(peer_->traits().echo_path), big_file_body()));
  ASSERT_TRUE(big) << describe(big.error()) << peer_->diagnostics();
  EXPECT_EQ(big->status(), 200);
  EXPECT_EQ(big->protocol(), Protocol::http2);
  ASSERT_EQ(big->body().size(), big_file_body().size());
  EXPECT_TRUE(big->body() == big_file_body()) << "the echo differs from what was sent";
  EXPECT_EQ(big->connection_id(), small->connection_id());
}

// A static file does not take POSTs: the server answers with its own status
// (405 from h2o and nginx; nghttpd --echo-upload echoes), for a 1 MiB body
// possibly before the upload ends, followed by RST_STREAM(NO_ERROR). The
// client must return that complete response (RFC 9113 section 8.1) and keep
// the connection.
TEST_P(Interop, PostToAStaticFileGetsTheServersAnswerAndTheConnectionStaysUsable) {
  Client c(options());
  for (const std::string& body : {std::string("seventeen bytes!!"), big_file_body()}) {
    SCOPED_TRACE("body of " + std::to_string(body.size()) + " bytes");
    auto r = c.send(Request::post(url("/small.txt"), body));
    ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
    EXPECT_EQ(r->status(), peer_->traits().post_to_file_status);
    EXPECT_EQ(r->protocol(), Protocol::http2);
    if (auto length = r->headers().get("content-length")) {
      EXPECT_EQ(std::string(*length), std::to_string(r->body().size())) << "incomplete body";
    }
    if (peer_->traits().post_to_file_echoes) {
      EXPECT_TRUE(r->body() == body) << "the echo differs";
    }
    expect_small_get_on(c, r->connection_id());
  }
}

TEST_P(Interop, HeadHasAContentLengthAndNoBody) {
  Client c(options());
  auto r = c.send(Request("HEAD", url("/big.bin")));
  ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->protocol(), Protocol::http2);
  EXPECT_EQ(r->headers().value_or("content-length", "(absent)"), std::to_string(big_file_body().size()));
  EXPECT_TRUE(r->body().empty()) << r->body().size() << " body bytes";
  expect_small_get_on(c, r->connection_id());
}

TEST_P(Interop, NoContentHasNoBody) {
  if (peer_->traits().no_content_path.empty()) GTEST_SKIP() << peer_->traits().no_no_content_reason;
  Client c(options());
  auto r = c.get(url(peer_->traits().no_content_path));
  ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
  EXPECT_EQ(r->status(), 204);
  EXPECT_EQ(r->protocol(), Protocol::http2);
  EXPECT_TRUE(r->body().empty()) << r->body().size() << " body bytes";
  expect_small_get_on(c, r->connection_id());
}

TEST_P(Interop, ConditionalGetIsNotModifiedWithoutABody) {
  Client c(options());
  auto first = c.get(url("/small.txt"));
  ASSERT_TRUE(first) << describe(first.error()) << peer_->diagnostics();
  ASSERT_EQ(first->status(), 200);
  const auto last_modified = first->headers().get("last-modified");
  ASSERT_TRUE(last_modified) << "no Last-Modified on a static file";
  const auto etag = first->headers().get("etag");
  EXPECT_EQ(etag.has_value(), peer_->traits().sends_etag);

  std::vector<Request> conditional;
  conditional.push_back(Request::get(url("/small.txt")).header("if-modified-since", std::string(*last_modified)));
  if (etag) conditional.push_back(Request::get(url("/small.txt")).header("if-none-match", std::string(*etag)));
  for (auto& req : conditional) {
    SCOPED_TRACE(req.headers().begin()->first);
    auto r = c.send(req);
    ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
    EXPECT_EQ(r->status(), 304);
    EXPECT_EQ(r->protocol(), Protocol::http2);
    EXPECT_TRUE(r->body().empty()) << r->body().size() << " body bytes";
    EXPECT_EQ(r->connection_id(), first->connection_id());
  }
  expect_small_get_on(c, first->connection_id());
}

TEST_P(Interop, HundredConcurrentStreamsShareOneConnection) {
  Options o = options();
  o.max_conns_per_origin = 1;
  // Streams open at once, by the client's own events: attempts put on the
  // connection and not yet done. Served one by one, this would stay at 1.
  struct InFlight {
    std::mutex m;
    int now = 0, most = 0;
  };
  auto in_flight = std::make_shared<InFlight>();
  o.on_event = [in_flight](const Event& e) {
    std::lock_guard lock(in_flight->m);
    if (e.kind == EventKind::request_start) in_flight->most = std::max(in_flight->most, ++in_flight->now);
    if (e.kind == EventKind::request_done) --in_flight->now;
  };
  Client c(o);
  std::vector<Request> requests;
  for (int i = 0; i < 100; ++i)  // every tenth a 1 MiB body, so streams interleave under flow control
    requests.push_back(Request::get(url(i % 10 == 0 ? "/big.bin" : "/small.txt")));
  const auto results = send_all(c, std::move(requests), 60s);

  std::set<std::uint64_t> connections;
  int ok = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    ASSERT_TRUE(results[i].has_value()) << "did not complete within 60 s\n" << c.dump_pools();
    const auto& r = *results[i];
    ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->protocol(), Protocol::http2);
    EXPECT_TRUE(r->body() == (i % 10 == 0 ? big_file_body() : small_file_body())) << "wrong body";
    connections.insert(r->connection_id());
    ok += r->status() == 200 ? 1 : 0;
  }
  EXPECT_EQ(ok, 100);
  EXPECT_EQ(connections.size(), 1u);
  EXPECT_EQ(c.counters().dials, 1u);
  std::lock_guard lock(in_flight->m);
  EXPECT_GE(in_flight->most, 10) << "streams were not open at the same time";
}

// Options::http_version = http1_only offers only http/1.1 in ALPN. h2o and
// nginx accept it and speak HTTP/1.1.
TEST_P(InteropHttp1OverTls, Http1OnlyFallsBackToHttp11ViaAlpn) {
  ASSERT_TRUE(peer_->traits().offers_http1_over_tls) << "instantiated for a server that does not";
  Options o = options();
  o.http_version = HttpVersion::http1_only;
  Client c(o);
  auto r = c.get(url("/big.bin"));
  ASSERT_TRUE(r) << describe(r.error()) << peer_->diagnostics();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->protocol(), Protocol::http1);
  EXPECT_TRUE(r->body() == big_file_body()) << "the body differs from the file";

  auto again = c.get(url("/small.txt"));
  ASSERT_TRUE(again) << describe(again.error()) << peer_->diagnostics();
  EXPECT_EQ(again->protocol(), Protocol::http1);
  EXPECT_EQ(again->body(), small_file_body());
  EXPECT_EQ(again->connection_id(), r->connection_id()) << "HTTP/1.1 keep-alive not used";
}

// nghttpd speaks HTTP/2 only: offered only http/1.1, the request must fail
// with what went wrong, not succeed and not wait for its deadline.
TEST_P(InteropHttp2OnlyTls, Http1OnlyFailsAtOnceAgainstAnHttp2OnlyServer) {
  ASSERT_FALSE(peer_->traits().offers_http1_over_tls) << "instantiated for a server that speaks HTTP/1.1";
  Options o = options();
  o.http_version = HttpVersion::http1_only;
  o.request_timeout = 60s;
  Client c(o);
  auto r = c.get(url("/big.bin"));
  ASSERT_FALSE(r) << "an HTTP/2-only server answered HTTP/1.1 with " << r->status();
  EXPECT_NE(r.error().code(), errc::deadline_exceeded) << describe(r.error());
  EXPECT_FALSE(is_timeout(r.error().code())) << describe(r.error());
}

INSTANTIATE_TEST_SUITE_P(Servers, Interop,
                         ::testing::Values(Param{PeerKind::nghttpd, Transport::tls},
                                           Param{PeerKind::nghttpd, Transport::h2c},
                                           Param{PeerKind::h2o, Transport::tls},
                                           Param{PeerKind::h2o, Transport::h2c},
                                           Param{PeerKind::nginx, Transport::tls},
                                           Param{PeerKind::nginx, Transport::h2c}),
                         param_name);

INSTANTIATE_TEST_SUITE_P(Servers, InteropHttp1OverTls,
                         ::testing::Values(Param{PeerKind::h2o, Transport::tls},
                                           Param{PeerKind::nginx, Transport::tls}),
                         param_name);

INSTANTIATE_TEST_SUITE_P(Servers, InteropHttp2OnlyTls, ::testing::Values(Param{PeerKind::nghttpd, Transport::tls}),
                         param_name);
