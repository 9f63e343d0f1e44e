// The ExecCredential documents and the encodings under them, without
// processes: KUBERNETES_EXEC_INFO's shape, reading answers, RFC 3339
// times, strict base64.
#include "base64.hpp"
#include "exec/exec_credential_json.hpp"
#include "rfc3339.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace rebound::kube;
using namespace rebound::kube::detail;

TEST(ExecInfo, IsNonInteractiveAndCarriesTheClusterOnlyWhenAsked) {
  ExecConfig c;
  c.command = "p";
  auto v = boost::json::parse(exec_info_json(c)).as_object();
  EXPECT_EQ(v["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(v["kind"], "ExecCredential");
  EXPECT_EQ(v["spec"].as_object()["interactive"], false);
  EXPECT_FALSE(v["spec"].as_object().contains("cluster"));

  c.cluster = ExecClusterInfo{"https://127.0.0.1:6443", "api", false, "PEM", R"({"region":"eu"})"};
  v = boost::json::parse(exec_info_json(c)).as_object();
  auto cluster = v["spec"].as_object()["cluster"].as_object();
  EXPECT_EQ(cluster["server"], "https://127.0.0.1:6443");
  EXPECT_EQ(cluster["tls-server-name"], "api");
  EXPECT_EQ(cluster["certificate-authority-data"], "UEVN");
  EXPECT_EQ(cluster["config"].as_object()["region"], "eu");
}

TEST(ExecAnswerParsing, ReadsTokenAndExpiry) {
  const auto a = parse_exec_answer(
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
          "status":{"token":"t","expirationTimestamp":"2024-05-01T12:00:00Z"}})",
      "client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(a.token, "t");
  ASSERT_TRUE(a.expiry);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*a.expiry), 1714564800);
}

TEST(ExecAnswerParsing, ErrorsNeverQuoteTheOutput) {
  for (const char* out : {"secret", R"({"kind":"secret"})", R"([1])",
                          R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})"}) {
    const auto a = parse_exec_answer(out, "client.authentication.k8s.io/v1");
    EXPECT_NE(a.error, "") << out;
    EXPECT_EQ(a.token, "");
  }
  EXPECT_EQ(parse_exec_answer("secret", "v").error.find("secret"), std::string::npos);
}

TEST(Rfc3339, AcceptsFractionsAndOffsets) {
  const auto base = parse_rfc3339("2024-05-01T12:00:00Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(parse_rfc3339("2024-05-01T14:00:00+02:00"), base);
  EXPECT_EQ(parse_rfc3339("2024-05-01T11:30:00-00:30"), base);
  EXPECT_EQ(*parse_rfc3339("2024-05-01T12:00:00.25Z") - *base, std::chrono::milliseconds(250));
  for (const char* bad : {"", "2024-05-01", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "2024-13-01T12:00:00Z",
                          "2024-05-01T12:00:00Zjunk"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Rfc3339, AnInstantBeforeTheClocksRangeIsTheEarliestInstantNotAnOverflow) {
  // The clock's nanoseconds begin in 1677: an expiry before that has passed
  // (exec_credential_fuzz found the overflow: year 1015).
  using Clock = std::chrono::system_clock;
  EXPECT_EQ(parse_rfc3339("1015-01-02T03:04:05Z"), Clock::time_point::min());
  EXPECT_EQ(parse_rfc3339("0000-01-01T00:00:00Z"), Clock::time_point::min());
  const auto answer = parse_exec_answer(
      R"({"apiVersion":"v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"1015-01-02T03:04:05Z"}})",
      "v1");
  ASSERT_EQ(answer.error, "");
  EXPECT_EQ(answer.expiry, Clock::time_point::min()) << "an expiry long past: expired";
}

TEST(Base64, StrictDecodingAsGoDoes) {
  EXPECT_EQ(base64_decode("Ym9iOnB3"), "bob:pw");
  EXPECT_EQ(base64_decode("Q0EK"), "CA\n");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode("Ym9i\nOnB3\n"), "bob:pw") << "line breaks are ignored";
  EXPECT_EQ(base64_decode(""), "");
  for (const char* bad : {"YQ", "Y===", "YQ==YQ==", "not*base64", "Ym9i OnB3"}) EXPECT_FALSE(base64_decode(bad)) << bad;
  EXPECT_EQ(base64_encode("bob:pw"), "Ym9iOnB3");
  EXPECT_EQ(base64_encode("a"), "YQ==");
}

TEST(Rfc3339, TimesPastTheClocksRangeAreTheEndOfTime) {
  EXPECT_EQ(parse_rfc3339("2999-01-01T00:00:00Z"), std::chrono::system_clock::time_point::max());
}
