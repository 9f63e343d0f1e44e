// One "copy" of rebound inside a shared object: the library is linked in
// statically with hidden visibility, as a vendored or bundled copy would be.
// Built twice (copy_a, copy_b); only these entry points are exported.
#include <rebound/error.hpp>

#define REBOUND_COPY_EXPORT extern "C" __attribute__((visibility("default")))
#define REBOUND_COPY_FN2(prefix, name) prefix##_##name
#define REBOUND_COPY_FN1(prefix, name) REBOUND_COPY_FN2(prefix, name)
#define REBOUND_COPY_FN(name) REBOUND_COPY_FN1(REBOUND_COPY, name)

REBOUND_COPY_EXPORT void REBOUND_COPY_FN(make)(int value, boost::system::error_code* out) {
  *out = rebound::make_error_code(static_cast<rebound::errc>(value));
}
REBOUND_COPY_EXPORT bool REBOUND_COPY_FN(is_connection_failure)(const boost::system::error_code* ec) {
  return rebound::is_connection_failure(*ec);
}
REBOUND_COPY_EXPORT bool REBOUND_COPY_FN(is_retryable)(const boost::system::error_code* ec) {
  return rebound::is_retryable(*ec);
}
REBOUND_COPY_EXPORT bool REBOUND_COPY_FN(is_timeout)(const boost::system::error_code* ec) {
  return rebound::is_timeout(*ec);
}
REBOUND_COPY_EXPORT bool REBOUND_COPY_FN(equals)(const boost::system::error_code* ec, int value) {
  return *ec == static_cast<rebound::errc>(value);
}
REBOUND_COPY_EXPORT const void* REBOUND_COPY_FN(category_address)() { return &rebound::error_category(); }
