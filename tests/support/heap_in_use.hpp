// Bytes the program holds on the heap now, for tests that bound memory per
// request. In a plain build that is glibc's count over every arena
// (mallinfo2: exact where RSS moves in pages and keeps what malloc
// caches). Under a sanitizer, malloc is the sanitizer's own allocator and
// glibc's arenas see nothing - a bound on mallinfo2 there could never fail
// - so its count is asked instead.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REBOUND_SANITIZER_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REBOUND_SANITIZER_HEAP 1
#endif
#endif

#ifdef REBOUND_SANITIZER_HEAP
#include <sanitizer/allocator_interface.h>
#else
#include <malloc.h>
#endif

namespace rebound::testing {

inline long long heap_in_use() {
#ifdef REBOUND_SANITIZER_HEAP
  return static_cast<long long>(__sanitizer_get_current_allocated_bytes());
#else
  return static_cast<long long>(::mallinfo2().uordblks);
#endif
}

}  // namespace rebound::testing
