// Specification of rebound's error codes, conditions and predicates.
#include <rebound/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <gtest/gtest.h>

#include <cerrno>

using namespace rebound;

TEST(Error, HeaderIsSelfContainedAndCodesCompareByValue) {
  EXPECT_EQ(make_error_code(errc::connection_refused), errc::connection_refused);
  EXPECT_NE(make_error_code(errc::connection_refused), errc::connection_closed);
}

TEST(Error, CategoriesCompareByTheirFixedIdNotTheirAddress) {
  // A second instance stands for the category of another copy of rebound.
  struct Copy : boost::system::error_category {
    constexpr Copy() : error_category(error_category_id) {}
    const char* name() const noexcept override { return "rebound"; }
    std::string message(int) const override { return "copy"; }
  } copy;
  EXPECT_NE(static_cast<const void*>(&copy), static_cast<const void*>(&error_category()));
  EXPECT_EQ(copy, error_category());
  const error_code from_copy(static_cast<int>(errc::connection_closed), copy);
  EXPECT_EQ(from_copy, errc::connection_closed);
  EXPECT_TRUE(is_connection_failure(from_copy));
  EXPECT_TRUE(is_retryable(from_copy));
}

TEST(Error, NewCodesAreAppendedWithFixedValues) {
  // ABI: the values appear in JSON by name but callers may store them.
  EXPECT_EQ(static_cast<int>(errc::client_certificate_rejected), 27);
  EXPECT_EQ(static_cast<int>(errc::callback_threw), 28);
  EXPECT_EQ(static_cast<int>(errc::proxy_unreachable), 29);
  EXPECT_EQ(static_cast<int>(errc::proxy_auth_required), 30);
  EXPECT_EQ(static_cast<int>(errc::proxy_tunnel_refused), 31);
  EXPECT_EQ(static_cast<int>(errc::http2_required), 32);
  EXPECT_EQ(static_cast<int>(errc::too_many_redirects), 33);
  EXPECT_EQ(static_cast<int>(errc::redirect_loop), 34);
  EXPECT_EQ(static_cast<int>(errc::content_decoding_failed), 35);
  // A server's redirects or its encoding come out the same on every attempt.
  EXPECT_FALSE(is_retryable(make_error_code(errc::too_many_redirects)));
  EXPECT_FALSE(is_retryable(make_error_code(errc::redirect_loop)));
  EXPECT_FALSE(is_retryable(make_error_code(errc::content_decoding_failed)));
  // A request that needs HTTP/2 fails the same way on every HTTP/1.1 connection.
  EXPECT_FALSE(is_retryable(make_error_code(errc::http2_required)));
  // An unreachable proxy is a failed dial like a refused connection; a
  // refused credential is not worth another attempt.
  EXPECT_TRUE(is_retryable(make_error_code(errc::proxy_unreachable)));
  EXPECT_TRUE(is_connection_failure(make_error_code(errc::proxy_unreachable)));
  EXPECT_TRUE(is_retryable(make_error_code(errc::proxy_tunnel_refused)));
  EXPECT_FALSE(is_retryable(make_error_code(errc::proxy_auth_required)));
}

TEST(Error, EveryEnumeratorHasANameAndAMessage) {
  for (int v = static_cast<int>(errc::invalid_url); v <= static_cast<int>(errc::content_decoding_failed); ++v) {
    const auto e = static_cast<errc>(v);
    EXPECT_STRNE(to_string(e), "unknown") << v;
    EXPECT_EQ(make_error_code(e).message().find("unknown"), std::string::npos) << v;
  }
}

TEST(Error, PredicatesClassifyRebroundCodes) {
  EXPECT_TRUE(is_connection_failure(make_error_code(errc::connection_refused)));
  EXPECT_TRUE(is_connection_failure(make_error_code(errc::health_check_failed)));
  EXPECT_FALSE(is_connection_failure(make_error_code(errc::invalid_url)));
  EXPECT_TRUE(is_timeout(make_error_code(errc::deadline_exceeded)));
  EXPECT_TRUE(is_timeout(make_error_code(errc::connect_timeout)));
  EXPECT_FALSE(is_timeout(make_error_code(errc::connection_refused)));
  EXPECT_TRUE(is_retryable(make_error_code(errc::refused_by_server)));
  EXPECT_FALSE(is_retryable(make_error_code(errc::invalid_url)));
  EXPECT_FALSE(is_retryable(make_error_code(errc::cancelled)));
}

TEST(Error, PredicatesRecogniseForeignCodesThatMeanTheSame) {
  EXPECT_TRUE(is_connection_failure(boost::asio::error::eof));
  EXPECT_TRUE(is_connection_failure(boost::asio::error::connection_reset));
  EXPECT_TRUE(is_connection_failure(error_code(ECONNREFUSED, boost::system::system_category())));
  EXPECT_TRUE(is_connection_failure(error_code(ECONNRESET, boost::system::generic_category())));
  EXPECT_TRUE(is_connection_failure(boost::asio::ssl::error::stream_truncated));
  EXPECT_TRUE(is_timeout(error_code(ETIMEDOUT, boost::system::system_category())));
  EXPECT_EQ(error_kind(error_code(ECONNREFUSED, boost::system::system_category())), "connection_refused");
  EXPECT_FALSE(is_connection_failure(error_code(ENOENT, boost::system::system_category())));
}

TEST(Error, MessageSaysWhatWhereAndHowFar) {
  const Error e(errc::connection_lost_after_send, "POST https://127.0.0.1:8443/x on conn #3",
                progress::sent, 1);
  const auto m = e.message();
  EXPECT_NE(m.find("may have processed"), std::string::npos) << m;
  EXPECT_NE(m.find("conn #3"), std::string::npos) << m;
  EXPECT_NE(m.find("sent, no response"), std::string::npos) << m;
  EXPECT_NE(m.find("attempts: 1"), std::string::npos) << m;
  EXPECT_TRUE(e == errc::connection_lost_after_send);
  EXPECT_TRUE(e == condition::connection_failure);
}

TEST(Error, ResultValueThrowsTheErrorWithItsMessage) {
  Result<int> r = Error(errc::queue_full, "GET http://x/");
  try {
    (void)r.value();
    FAIL() << "value() of an error must throw";
  } catch (const Exception& e) {
    EXPECT_EQ(e.error().code(), errc::queue_full);
    EXPECT_NE(std::string(e.what()).find("GET http://x/"), std::string::npos);
  }
}
