// Symbol visibility for rebound's public API. The library is built with
// hidden visibility; only what is marked REBOUND_API is exported.
#pragma once

#if defined(REBOUND_STATIC_DEFINE) || !defined(__GNUC__)
#define REBOUND_API
#else
#define REBOUND_API __attribute__((visibility("default")))
#endif
