// Impersonation (kubeconfig's as, as-uid, as-groups, as-user-extra): read
// from the file, sent beside the user's own credentials as Impersonate-*
// fields (a group or an extra value per field), and transparent to the
// credential source underneath, which still recognises its own credential
// when the server rejects it.
#include "kube/kube_fixtures.hpp"

#include "impersonation.hpp"

#include <rebound/kube/kubeconfig.hpp>

#include <gtest/gtest.h>

using namespace rebound;
using namespace rebound::kube;
using namespace rebound::kube::testing;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A source that answers "authorization: Bearer t<N>" and records what it
// was told was rejected.
class CountingSource : public CredentialSource {
 public:
  void fetch(const std::optional<Credential>& rejected, std::function<void(Result<Credential>)> done) override {
    rejected_.push_back(rejected);
    done(Credential{{{"authorization", "Bearer t" + std::to_string(rejected_.size())}}});
  }
  std::vector<std::optional<Credential>> rejected_;
};

}  // namespace

TEST(Impersonation, IsReadFromTheKubeconfigUser) {
  TempDir dir;
  const auto file = dir.write("config",
                              "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                              "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
                              "contexts:\n- name: c\n  context:\n    cluster: k\n    user: alice\n"
                              "users:\n- name: alice\n  user:\n    token: t0k\n    as: bob\n    as-uid: u-1\n"
                              "    as-groups: [devs, ops]\n    as-user-extra:\n      reason: [audit, \"on call\"]\n");
  const RestConfig cfg = load_kubeconfig({.path = file, .context = ""});
  EXPECT_EQ(cfg.impersonate.user, "bob");
  EXPECT_EQ(cfg.impersonate.uid, "u-1");
  EXPECT_EQ(cfg.impersonate.groups, (std::vector<std::string>{"devs", "ops"}));
  ASSERT_EQ(cfg.impersonate.extra.size(), 1u);
  EXPECT_EQ(cfg.impersonate.extra[0].first, "reason");
  EXPECT_EQ(cfg.impersonate.extra[0].second, (std::vector<std::string>{"audit", "on call"}));
}

TEST(Impersonation, FieldsComeBesideTheCredentialsOneGroupAndOneExtraValueEach) {
  Impersonation who{"bob", "u-1", {"devs", "ops"}, {{"reason", {"audit", "on call"}}, {"a/b c", {"x"}}}};
  RestConfig cfg;
  cfg.server = "https://127.0.0.1:6443";
  cfg.credentials = credentials::bearer("t0k");
  cfg.impersonate = who;
  Options o;
  cfg.apply_to(o);
  EXPECT_EQ(o.credentials.origin, cfg.server) << "only to the server's origin";
  const auto c = fetch_now(*o.credentials.source);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->headers, (Fields{{"authorization", "Bearer t0k"},
                                {"impersonate-user", "bob"},
                                {"impersonate-uid", "u-1"},
                                {"impersonate-group", "devs"},
                                {"impersonate-group", "ops"},
                                {"impersonate-extra-reason", "audit"},
                                {"impersonate-extra-reason", "on call"},
                                {"impersonate-extra-a%2Fb%20c", "x"}}));
}

TEST(Impersonation, WithoutCredentialsTheFieldsStillGoToTheServerOnly) {
  RestConfig cfg;
  cfg.server = "https://127.0.0.1:6443";
  cfg.impersonate.user = "bob";
  Options o;
  cfg.apply_to(o);
  ASSERT_TRUE(o.credentials.source);
  EXPECT_EQ(o.credentials.origin, cfg.server);
  EXPECT_EQ(fetch_now(*o.credentials.source)->headers, (Fields{{"impersonate-user", "bob"}}));
}

TEST(Impersonation, ARejectedCredentialReachesItsSourceWithoutTheImpersonationFields) {
  auto inner = std::make_shared<CountingSource>();
  auto source = detail::impersonating(inner, {"bob", "", {"devs"}, {}});
  const auto first = fetch_now(*source);
  ASSERT_TRUE(first);
  fetch_now(*source, *first);  // the server answered 401 to it
  ASSERT_EQ(inner->rejected_.size(), 2u);
  ASSERT_TRUE(inner->rejected_[1]);
  EXPECT_EQ(inner->rejected_[1]->headers, (Fields{{"authorization", "Bearer t1"}}))
      << "the source must see its own credential to know it is the one to replace";
}
