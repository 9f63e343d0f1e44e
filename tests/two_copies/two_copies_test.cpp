// The incident's regression test (ORIGIN.md): two copies of rebound in one
// process - each a shared object with its own hidden, static copy - must
// agree on what an error is. An error made by one copy compares equal to the
// same code made by the other, and both copies' predicates classify both
// alike. Identity by address or by message text would fail here.
#include <rebound/error.hpp>

#include <gtest/gtest.h>

using boost::system::error_code;

#define DECLARE_COPY(p)                                                  \
  extern "C" void p##_make(int, error_code*);                            \
  extern "C" bool p##_is_connection_failure(const error_code*);          \
  extern "C" bool p##_is_retryable(const error_code*);                   \
  extern "C" bool p##_is_timeout(const error_code*);                     \
  extern "C" bool p##_equals(const error_code*, int);                    \
  extern "C" const void* p##_category_address();
DECLARE_COPY(copy_a)
DECLARE_COPY(copy_b)

namespace {
error_code from_a(rebound::errc e) { error_code ec; copy_a_make(static_cast<int>(e), &ec); return ec; }
error_code from_b(rebound::errc e) { error_code ec; copy_b_make(static_cast<int>(e), &ec); return ec; }
}  // namespace

TEST(TwoCopies, TheCopiesReallyAreSeparate) {
  EXPECT_NE(copy_a_category_address(), copy_b_category_address());
}

TEST(TwoCopies, SameCodeFromEitherCopyComparesEqual) {
  for (auto e : {rebound::errc::connection_closed, rebound::errc::refused_by_server,
                 rebound::errc::deadline_exceeded}) {
    EXPECT_EQ(from_a(e), from_b(e));
    const error_code b = from_b(e);
    const error_code a = from_a(e);
    EXPECT_TRUE(copy_a_equals(&b, static_cast<int>(e)));
    EXPECT_TRUE(copy_b_equals(&a, static_cast<int>(e)));
  }
  EXPECT_NE(from_a(rebound::errc::connection_closed), from_b(rebound::errc::connection_refused));
}

TEST(TwoCopies, PredicatesClassifyTheOtherCopysCodesAlike) {
  const error_code closed_b = from_b(rebound::errc::connection_closed);
  const error_code closed_a = from_a(rebound::errc::connection_closed);
  EXPECT_TRUE(copy_a_is_connection_failure(&closed_b));
  EXPECT_TRUE(copy_b_is_connection_failure(&closed_a));
  EXPECT_TRUE(copy_a_is_retryable(&closed_b));
  EXPECT_TRUE(copy_b_is_retryable(&closed_a));
  const error_code deadline_b = from_b(rebound::errc::deadline_exceeded);
  EXPECT_TRUE(copy_a_is_timeout(&deadline_b));
  EXPECT_FALSE(copy_a_is_retryable(&deadline_b));
}
