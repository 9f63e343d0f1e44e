// Credentials: a Client adds them to every request to their origin and to
// no other, leaves a caller's own field alone, never shows them in events,
// fails a request whose credential cannot be produced before sending it,
// and answers a 401 by asking the source once more and resending once when
// the source has something new (a rotated token file).
#include "integration/completions.hpp"
#include "integration/fixtures.hpp"

#include <rebound/credentials.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

using namespace rebound;
using namespace rebound::testing;
using namespace std::chrono_literals;

namespace {

// Records the authorization field of every request to /who; answers 401
// unless it equals `accepted` (empty: accept anything).
struct AuthRecorder {
  std::mutex mutex;
  std::vector<std::string> seen;
  std::string accepted;

  void install(server::Server& s) {
    s.route("/who", [this](const server::ServerRequest& r) {
      std::lock_guard lock(mutex);
      seen.push_back(r.header("authorization"));
      server::ServerResponse res;
      if (!accepted.empty() && seen.back() != accepted) {
        res.status = 401;
        res.body = "unauthorized";
      } else {
        res.body = seen.back();
      }
      return res;
    });
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

Options with_credentials(std::shared_ptr<CredentialSource> source, std::string origin) {
  Options o;
  o.credentials = {std::move(source), std::move(origin)};
  return o;
}

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("rebound-cred-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << content;
  return p;
}

// Answers from a thread of its own after `delay` (how an exec plugin answers).
class SlowSource final : public CredentialSource {
 public:
  explicit SlowSource(std::chrono::milliseconds delay) : delay_(delay) {}
  ~SlowSource() override {
    for (auto& t : threads_) t.join();
  }
  void fetch(const std::optional<Credential>&, std::function<void(Result<Credential>)> done) override {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([delay = delay_, done = std::move(done)] {
      std::this_thread::sleep_for(delay);
      done(Credential{{{"authorization", "Bearer slow"}}});
    });
  }

 private:
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace

TEST(Credentials, EveryRequestToTheirOriginCarriesThem) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  CheckedClient c(with_credentials(credentials::bearer("t0ken"), s->url()));
  for (int i = 0; i < 3; ++i) {
    auto r = c.send(Request::get(s->url() + "/who"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body(), "Bearer t0ken");
  }
  EXPECT_EQ(rec.all().size(), 3u);
}

TEST(Credentials, ARequestToAnotherOriginNeverCarriesThem) {
  auto mine = start_server();
  auto other = start_server();  // same host, another port: another origin
  AuthRecorder rec;
  rec.install(*other);
  CheckedClient c(with_credentials(credentials::bearer("t0ken"), mine->url() + "/some/path"));
  auto r = c.send(Request::get(other->url() + "/who"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "") << "credentials leaked to " << other->url();
}

TEST(Credentials, TheCallersOwnAuthorizationFieldWins) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  CheckedClient c(with_credentials(credentials::bearer("t0ken"), s->url()));
  auto r = c.send(Request::get(s->url() + "/who").header("Authorization", "Bearer mine"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "Bearer mine");
  EXPECT_EQ(rec.all(), std::vector<std::string>{"Bearer mine"});
}

TEST(Credentials, BasicAuthIsTheBase64OfUserColonPassword) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  CheckedClient c(with_credentials(credentials::basic("Aladdin", "open sesame"), s->url()));
  auto r = c.send(Request::get(s->url() + "/who"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617's example
}

TEST(Credentials, ARotatedTokenFileIsReadAgainAfterA401AndTheRequestResentOnce) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  const auto file = temp_file("rotated", "old-token\n");
  CheckedClient c(with_credentials(credentials::bearer_file(file.string()), s->url()));
  rec.accepted = "Bearer old-token";
  ASSERT_TRUE(c.send(Request::get(s->url() + "/who")));  // reads and caches old-token

  std::ofstream(file) << "new-token\n";  // rotated; the minute is not up
  rec.accepted = "Bearer new-token";
  auto r = c.send(Request::post(s->url() + "/who", "body"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->attempts(), 2);
  EXPECT_EQ(rec.all(), (std::vector<std::string>{"Bearer old-token", "Bearer old-token", "Bearer new-token"}));
  std::filesystem::remove(file);
}

// A watch is a streamed response: its 401 must reach the credential source
// too, or a watch-only controller whose token was revoked gets 401 for ever.
TEST(Credentials, A401ToAStreamedResponseAsksTheSourceAgainAndTheSinkSeesOnlyTheFinalBody) {
  for (const auto version : {HttpVersion::http1_only, HttpVersion::http2_prior_knowledge}) {
    SCOPED_TRACE(version == HttpVersion::http1_only ? "HTTP/1.1" : "h2c");
    auto s = start_server();
    AuthRecorder rec;
    rec.install(*s);
    const auto file = temp_file("streamed-401", "old-token\n");
    Options o = with_credentials(credentials::bearer_file(file.string()), s->url());
    o.http_version = version;
    CheckedClient c(o);
    rec.accepted = "Bearer old-token";
    ASSERT_TRUE(c.send(Request::get(s->url() + "/who")));  // reads and caches old-token
    std::ofstream(file) << "new-token\n";  // rotated; the minute is not up
    rec.accepted = "Bearer new-token";
    auto streamed = std::make_shared<std::string>();
    auto r = c.send(Request::get(s->url() + "/who").on_body([streamed](std::string_view chunk) {
      streamed->append(chunk);
    }));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->status(), 200);
    EXPECT_EQ(r->attempts(), 2);
    EXPECT_EQ(*streamed, "Bearer new-token") << "the sink saw the 401's body";
    EXPECT_EQ(rec.all(), (std::vector<std::string>{"Bearer old-token", "Bearer old-token", "Bearer new-token"}));
    std::filesystem::remove(file);
  }
}

TEST(Credentials, A401WithNothingNewToOfferIsTheAnswerAndIsNotResent) {
  auto s = start_server();
  AuthRecorder rec;
  rec.accepted = "Bearer right";
  rec.install(*s);
  CheckedClient c(with_credentials(credentials::bearer("wrong"), s->url()));
  auto r = c.send(Request::get(s->url() + "/who"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 401);
  EXPECT_EQ(r->attempts(), 1);
  EXPECT_EQ(rec.all().size(), 1u);
}

TEST(Credentials, AStreamedBodyIsNotResentAfterA401) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  const auto file = temp_file("streamed", "old-token");
  CheckedClient c(with_credentials(credentials::bearer_file(file.string()), s->url()));
  std::ofstream(file) << "new-token";  // would be picked up by a re-read
  rec.accepted = "Bearer nobody";
  auto sent = std::make_shared<bool>(false);
  auto r = c.send(Request("PUT", s->url() + "/who").body_source([sent]() -> std::string {
    if (*sent) return {};
    *sent = true;
    return "once";
  }, 4));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status(), 401);
  EXPECT_EQ(rec.all().size(), 1u) << "a body read once was sent twice";
  std::filesystem::remove(file);
}

TEST(Credentials, AnUnreadableTokenFileFailsTheRequestBeforeItIsSentAndNamesTheFile) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  CheckedClient c(with_credentials(credentials::bearer_file("/nonexistent/rebound/token"), s->url()));
  auto r = c.send(Request::get(s->url() + "/who"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::credentials_failed);
  EXPECT_EQ(r.error().reached(), progress::not_sent);
  EXPECT_NE(r.error().message().find("/nonexistent/rebound/token"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("GET " + s->url() + "/who"), std::string::npos) << r.error().message();
  EXPECT_TRUE(rec.all().empty());
}

TEST(Credentials, ASourceThatAnswersLaterFromItsOwnThreadIsWaitedFor) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  auto source = std::make_shared<SlowSource>(100ms);
  {
    CheckedClient c(with_credentials(source, s->url()));
    auto r = c.send(Request::get(s->url() + "/who"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body(), "Bearer slow");
  }
}

TEST(Credentials, ASourceSlowerThanTheDeadlineFailsTheRequestAtItsDeadline) {
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  auto source = std::make_shared<SlowSource>(1500ms);
  {
    CheckedClient c(with_credentials(source, s->url()));
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.send(Request::get(s->url() + "/who").timeout(300ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::deadline_exceeded);
    EXPECT_EQ(r.error().reached(), progress::not_sent);
    EXPECT_LT(elapsed_since(t0), 1200ms);
  }  // the late answer arrives after the client is gone: nothing happens
  EXPECT_TRUE(rec.all().empty());
}

TEST(Credentials, ASourceSlowerThanTheReapersTickIsWaitedForNotDropped) {
  // An exec plugin (aws eks get-token, gke-gcloud-auth-plugin) takes a
  // second or more; the reaper looks at the pools every second.
  auto s = start_server();
  AuthRecorder rec;
  rec.install(*s);
  auto source = std::make_shared<SlowSource>(1500ms);
  {
    CheckedClient c(with_credentials(source, s->url()));
    auto r = c.send(Request::get(s->url() + "/who").timeout(10s));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body(), "Bearer slow");
  }
  EXPECT_EQ(rec.all().size(), 1u);
}

TEST(Credentials, ShutdownCompletesASendWaitingForItsCredentialAtOnceAndTheLateAnswerDoesNothing) {
  auto s = start_server();
  // Answers only when the test lets it, from its own thread.
  struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool fetched = false, release = false;
  };
  auto gate = std::make_shared<Gate>();
  class HeldSource final : public CredentialSource {
   public:
    explicit HeldSource(std::shared_ptr<Gate> g) : gate_(std::move(g)) {}
    ~HeldSource() override {
      if (thread_.joinable()) thread_.join();
    }
    void fetch(const std::optional<Credential>&, std::function<void(Result<Credential>)> done) override {
      thread_ = std::thread([gate = gate_, done = std::move(done)] {
        std::unique_lock lock(gate->mutex);
        gate->fetched = true;
        gate->cv.notify_all();
        gate->cv.wait(lock, [&] { return gate->release; });
        lock.unlock();
        done(Credential{{{"authorization", "Bearer late"}}});
      });
    }

   private:
    std::shared_ptr<Gate> gate_;
    std::thread thread_;
  };
  auto source = std::make_shared<HeldSource>(gate);
  auto client = std::make_unique<Client>(with_credentials(source, s->url()));
  auto promise = std::make_shared<std::promise<Result<Response>>>();
  auto sent = promise->get_future();
  std::thread([c = client.get(), promise, url = s->url() + "/who"] {
    promise->set_value(c->send(Request::get(url).timeout(60s)));
  }).detach();
  {
    std::unique_lock lock(gate->mutex);
    ASSERT_TRUE(gate->cv.wait_for(lock, 5s, [&] { return gate->fetched; }));
  }
  client->shutdown();  // what ~Client does first
  const bool completed = sent.wait_for(3s) == std::future_status::ready;
  {
    std::lock_guard lock(gate->mutex);
    gate->release = true;  // the plugin answers after the shutdown
  }
  gate->cv.notify_all();
  if (!completed) {
    (void)client.release();  // its send() still runs: leak it rather than destroy it under that thread
    FAIL() << "a send waiting for its credential was not completed by shutdown()";
  }
  auto r = sent.get();
  client.reset();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::client_shut_down) << r.error().message();
  EXPECT_EQ(s->stats().requests, 0u);
}

// A 401 sends the source back for a fresh credential; while it works (an
// exec plugin, seconds) the request's next attempt has not left the client.
// A deadline or cancel then reports "not sent", not the 401 attempt's
// "response_started".
TEST(Credentials, ARequestCancelledWhileItsCredentialIsRefreshedAfterA401ReportsItsRetryWasNotSent) {
  auto s = start_server();
  AuthRecorder rec;
  rec.accepted = "Bearer new";
  rec.install(*s);
  // The first fetch answers at once with a token the server rejects; the
  // refresh after the 401 answers only when the test lets it.
  struct Refresh {
    std::mutex mutex;
    std::function<void(Result<Credential>)> answer;
  };
  auto refresh = std::make_shared<Refresh>();
  class RefreshingSource final : public CredentialSource {
   public:
    explicit RefreshingSource(std::shared_ptr<Refresh> r) : refresh_(std::move(r)) {}
    void fetch(const std::optional<Credential>& rejected, std::function<void(Result<Credential>)> done) override {
      if (!rejected) {
        done(Credential{{{"authorization", "Bearer old"}}});
        return;
      }
      std::lock_guard lock(refresh_->mutex);
      refresh_->answer = std::move(done);
    }

   private:
    std::shared_ptr<Refresh> refresh_;
  };
  auto source = std::make_shared<RefreshingSource>(refresh);
  std::function<void(Result<Credential>)> late_answer;
  {
    CheckedClient c(with_credentials(source, s->url()));
    Cancellation cancel;
    auto done = std::make_shared<std::promise<Result<Response>>>();
    auto result = done->get_future();
    c.send_async(Request::get(s->url() + "/who").timeout(20s).cancellation(cancel),
                 [done](Result<Response> r) { done->set_value(std::move(r)); });
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(refresh->mutex);
      return static_cast<bool>(refresh->answer);
    })) << "the 401 did not ask the source again";
    cancel.cancel();
    ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
    auto r = result.get();
    ASSERT_FALSE(r) << "status " << r->status();
    EXPECT_EQ(r.error().code(), errc::cancelled);
    EXPECT_EQ(r.error().reached(), progress::not_sent) << r.error().message();
    EXPECT_NE(r.error().message().find("waiting to retry"), std::string::npos) << r.error().message();
    std::lock_guard lock(refresh->mutex);
    late_answer = std::move(refresh->answer);
  }
  late_answer(Credential{{{"authorization", "Bearer new"}}});  // after the Client: nothing happens
  EXPECT_EQ(rec.all(), std::vector<std::string>{"Bearer old"});
}

TEST(Credentials, NeverAppearInEventsErrorsOrThePoolDump) {
  auto s = start_server();
  AuthRecorder rec;
  rec.accepted = "Bearer s3cret-but-rotated";
  rec.install(*s);
  std::mutex m;
  std::string everything;
  Options o = with_credentials(credentials::bearer("s3cret"), s->url());
  o.on_event = [&](const Event& e) {
    std::lock_guard lock(m);
    everything += e.detail + "\n";
  };
  CheckedClient c(o);
  auto r = c.send(Request::get(s->url() + "/who"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status(), 401);
  everything += c.dump_pools();
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return everything.find("-> 401") != std::string::npos;
  }, 5s));
  std::lock_guard lock(m);
  EXPECT_EQ(everything.find("s3cret"), std::string::npos) << everything;
}

TEST(Credentials, AClientRefusesCredentialsWithoutAValidOrigin) {
  for (const std::string origin : {"", "not a url", "ftp://host/"}) {
    SCOPED_TRACE(origin);
    Options o = with_credentials(credentials::bearer("t"), origin);
    try {
      Client c(o);
      ADD_FAILURE() << "a client would send credentials with no origin to bind them to";
    } catch (const Exception& e) {
      EXPECT_EQ(e.error(), errc::invalid_request);
      EXPECT_NE(e.error().message().find("credentials.origin"), std::string::npos) << e.error().message();
    }
  }
}
