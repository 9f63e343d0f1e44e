// Redirects (src/follow) against the embedded server: two origins, each a
// real server on loopback, whose routes answer 3xx and report what reached
// them (method, body, credentials).
#include "integration/fixtures.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

// What one server's routes saw, in order.
struct SeenByRedirectServer {
  std::mutex mutex;
  std::vector<server::ServerRequest> requests;
  void add(const server::ServerRequest& r) {
    std::lock_guard lock(mutex);
    requests.push_back(r);
  }
  std::vector<server::ServerRequest> all() {
    std::lock_guard lock(mutex);
    return requests;
  }
};

server::ServerResponse redirect_to(int status, std::string location) {
  server::ServerResponse r;
  r.status = status;
  r.headers.emplace_back("location", std::move(location));
  r.body = "moved";
  return r;
}

// Two origins: A redirects, B answers with what it was sent.
class Redirects : public ::testing::Test {
 protected:
  void SetUp() override {
    a = start_server();
    b = start_server();
    b->route("/final", [this](const server::ServerRequest& r) {
      seen_b.add(r);
      server::ServerResponse out;
      out.body = r.method + " " + r.body;
      return out;
    });
    a->route("/here", [this](const server::ServerRequest& r) {
      seen_a.add(r);
      server::ServerResponse out;
      out.body = r.method + " " + r.body + " auth=" + r.header("authorization");
      return out;
    });
  }
  std::vector<Event> redirect_events() {
    std::lock_guard lock(events_mutex);
    std::vector<Event> out;
    for (const auto& e : events)
      if (e.kind == EventKind::redirect) out.push_back(e);
    return out;
  }
  Options following(int hops = 5) {
    Options o;
    o.redirects = RedirectPolicy::follow(hops);
    o.request_timeout = 5s;
    o.on_event = [this](const Event& e) {
      std::lock_guard lock(events_mutex);
      events.push_back(e);
    };
    return o;
  }

  std::unique_ptr<server::Server> a, b;
  SeenByRedirectServer seen_a, seen_b;
  std::mutex events_mutex;
  std::vector<Event> events;
};

TEST_F(Redirects, AreNotFollowedByDefault) {
  a->route("/start", [](const server::ServerRequest&) { return redirect_to(302, "/here"); });
  CheckedClient client;
  auto r = client.get(a->url() + "/start");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 302);
  EXPECT_EQ(r->redirects(), 0);
  EXPECT_TRUE(seen_a.all().empty());
}

TEST_F(Redirects, AChainAcrossTwoOriginsDropsAuthorizationAndCookieAndReportsTheFinalUrl) {
  a->route("/start", [](const server::ServerRequest&) { return redirect_to(301, "/next"); });
  a->route("/next", [this](const server::ServerRequest& r) {
    seen_a.add(r);
    return redirect_to(302, b->url() + "/final");
  });
  CheckedClient client(following());
  auto r = client.send(Request::get(a->url() + "/start")
                           .header("authorization", "Bearer secret")
                           .header("cookie", "session=1")
                           .header("x-kept", "yes"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->body(), "GET ");
  EXPECT_EQ(r->redirects(), 2);
  EXPECT_EQ(r->url(), b->url() + "/final");
  // Same origin: the credentials went along; the other origin got none.
  auto on_a = seen_a.all();
  ASSERT_EQ(on_a.size(), 1u);
  EXPECT_EQ(on_a[0].header("authorization"), "Bearer secret");
  auto on_b = seen_b.all();
  ASSERT_EQ(on_b.size(), 1u);
  EXPECT_EQ(on_b[0].header("authorization"), "");
  EXPECT_EQ(on_b[0].header("cookie"), "");
  EXPECT_EQ(on_b[0].header("x-kept"), "yes");
  ASSERT_TRUE(eventually([&] { return redirect_events().size() == 2; }, 2s));
  EXPECT_NE(redirect_events()[1].detail.find("-> GET " + b->url() + "/final"), std::string::npos)
      << redirect_events()[1].detail;
}

TEST_F(Redirects, A303TurnsAPostIntoAGetWithoutItsBody) {
  a->route("/form", [](const server::ServerRequest&) { return redirect_to(303, "/here"); });
  CheckedClient client(following());
  auto r = client.send(Request::post(a->url() + "/form", "name=x", "application/x-www-form-urlencoded"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "GET  auth=");
  auto on_a = seen_a.all();
  ASSERT_EQ(on_a.size(), 1u);
  EXPECT_EQ(on_a[0].method, "GET");
  EXPECT_EQ(on_a[0].body, "");
  EXPECT_EQ(on_a[0].header("content-type"), "");
}

TEST_F(Redirects, A307KeepsTheMethodAndTheBodyAcrossOrigins) {
  a->route("/upload", [this](const server::ServerRequest&) { return redirect_to(307, b->url() + "/final"); });
  CheckedClient client(following());
  auto r = client.send(Request::post(a->url() + "/upload", "the same bytes"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "POST the same bytes");
  EXPECT_EQ(r->redirects(), 1);
}

TEST_F(Redirects, A307WithAStreamedBodyIsReturnedNotFollowed) {
  a->route("/upload", [this](const server::ServerRequest&) { return redirect_to(307, b->url() + "/final"); });
  CheckedClient client(following());
  auto chunks = std::make_shared<int>(0);
  auto r = client.send(Request("POST", a->url() + "/upload").body_source([chunks]() -> std::string {
    return (*chunks)++ == 0 ? "streamed" : "";
  }));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 307);
  EXPECT_TRUE(seen_b.all().empty());
  ASSERT_TRUE(eventually([&] { return redirect_events().size() == 1; }, 2s));
  EXPECT_NE(redirect_events()[0].detail.find("streamed request body"), std::string::npos);
}

TEST_F(Redirects, ALoopIsAnErrorNamingTheUrlVisitedTwice) {
  a->route("/ping", [](const server::ServerRequest&) { return redirect_to(302, "/pong"); });
  a->route("/pong", [](const server::ServerRequest&) { return redirect_to(302, "/ping"); });
  CheckedClient client(following(10));
  auto r = client.get(a->url() + "/ping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::redirect_loop) << r.error().message();
  EXPECT_FALSE(is_retryable(r.error().code()));
  EXPECT_NE(r.error().message().find("GET " + a->url() + "/ping"), std::string::npos) << r.error().message();
}

TEST_F(Redirects, OneHopMoreThanThePolicyAllowsIsAnError) {
  a->route("/hop/*", [](const server::ServerRequest& r) {
    return redirect_to(302, "/hop/" + std::to_string(std::stoi(r.path.substr(5)) + 1));
  });
  CheckedClient client(following(3));
  auto r = client.get(a->url() + "/hop/0");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::too_many_redirects) << r.error().message();
}

TEST_F(Redirects, ASameOriginPolicyReturnsARedirectToAnotherOrigin) {
  a->route("/away", [this](const server::ServerRequest&) { return redirect_to(302, b->url() + "/final"); });
  CheckedClient client;
  auto r = client.send(Request::get(a->url() + "/away").redirects({5, RedirectScope::same_origin}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 302);
  EXPECT_TRUE(seen_b.all().empty());
}

TEST_F(Redirects, ABodySinkSeesOnlyTheFinalAnswersBody) {
  a->route("/start", [](const server::ServerRequest&) { return redirect_to(302, "/here"); });
  CheckedClient client(following());
  std::string streamed;
  auto r = client.send(Request::get(a->url() + "/start").on_body([&](std::string_view c) { streamed += c; }));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(streamed, "GET  auth=");
  EXPECT_EQ(r->body(), "");
}

TEST_F(Redirects, TheDeadlineSpansEveryHop) {
  a->route("/slow/*", [](const server::ServerRequest& r) {
    auto out = redirect_to(302, "/slow/" + std::to_string(std::stoi(r.path.substr(6)) + 1));
    out.delay = 150ms;
    return out;
  });
  CheckedClient client(following(20));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client.send(Request::get(a->url() + "/slow/0").timeout(500ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::deadline_exceeded) << r.error().message();
  EXPECT_LT(elapsed_since(t0), 2s);
}

}  // namespace
}  // namespace rebound::testing
