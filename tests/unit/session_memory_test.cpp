// nghttp2's allocator for rebound's sessions (src/h2/session_memory.hpp):
// a freed small block is reused by the next allocation of its class on the
// same thread, reallocation keeps the bytes, calloc zeroes, large blocks
// and blocks freed on another thread work; under AddressSanitizer nghttp2
// keeps its own malloc.
#include "h2/session_memory.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace {

nghttp2_mem* session_mem() { return rebound::h2::session_memory(); }

}  // namespace

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SESSION_MEMORY_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SESSION_MEMORY_TEST_ASAN 1
#endif

#if defined(SESSION_MEMORY_TEST_ASAN)
TEST(SessionMemory, UnderAddressSanitizerNghttp2KeepsItsOwnMalloc) { EXPECT_EQ(session_mem(), nullptr); }
#else
TEST(SessionMemory, AFreedSmallBlockIsTheNextOneOfItsClassOnThisThread) {
  nghttp2_mem* m = session_mem();
  ASSERT_NE(m, nullptr);
  void* a = m->malloc(100, m->mem_user_data);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 16, 0u) << "malloc's alignment";
  m->free(a, m->mem_user_data);
  void* b = m->malloc(120, m->mem_user_data);  // the same class (up to 128)
  EXPECT_EQ(b, a);
  m->free(b, m->mem_user_data);
}

TEST(SessionMemory, ReallocationKeepsTheBytesAcrossClassesAndCallocZeroes) {
  nghttp2_mem* m = session_mem();
  auto* p = static_cast<char*>(m->calloc(10, 10, m->mem_user_data));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p[i], 0);
  std::memset(p, 'x', 100);
  p = static_cast<char*>(m->realloc(p, 5000, m->mem_user_data));  // beyond every class: the heap
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(p[i], 'x') << i;
  std::memset(p, 'y', 5000);
  p = static_cast<char*>(m->realloc(p, 50, m->mem_user_data));  // shrinks into a class
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(p[i], 'y') << i;
  m->free(p, m->mem_user_data);
  m->free(nullptr, m->mem_user_data);  // as free(NULL)
  EXPECT_EQ(m->calloc(SIZE_MAX / 2, 4, m->mem_user_data), nullptr) << "an overflowing calloc fails";
}

TEST(SessionMemory, BlocksMadeOnOneThreadAreFreedOnAnotherAndManyAtOnce) {
  nghttp2_mem* m = session_mem();
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(m->malloc(static_cast<std::size_t>(16 + i % 1100), m->mem_user_data));
  std::thread other([&] {
    for (void* b : blocks) m->free(b, m->mem_user_data);  // beyond what a thread keeps: the rest to the heap
  });
  other.join();
  void* again = m->malloc(64, m->mem_user_data);
  ASSERT_NE(again, nullptr);
  m->free(again, m->mem_user_data);
}
#endif
