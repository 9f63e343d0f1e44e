// nghttp2's allocations from per-thread free lists: see session_memory.hpp.
#include "h2/session_memory.hpp"

#include "inflight/recycling_allocator.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REBOUND_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define REBOUND_ASAN 1
#endif

namespace rebound::h2 {

namespace {

// Each block starts with this header (16 bytes keep malloc's alignment):
// the class it came from, or its size when it is outside the classes.
struct alignas(16) BlockHeader {
  std::size_t size;  // the usable bytes after the header
  bool cached;       // its size is a class size: it may go to a free list
};
static_assert(sizeof(BlockHeader) == 16);

constexpr std::size_t class_sizes[] = {64, 128, 256, 512, 1024};

template <std::size_t usable>
using Lists = inflight::detail::BlockCache<usable + sizeof(BlockHeader)>;

// The class size for `n` bytes, or 0 when none holds it.
std::size_t class_for(std::size_t n) noexcept {
  for (std::size_t c : class_sizes)
    if (n <= c) return c;
  return 0;
}

void* take(std::size_t usable) noexcept {
  switch (usable) {
    case 64: return Lists<64>::take();
    case 128: return Lists<128>::take();
    case 256: return Lists<256>::take();
    case 512: return Lists<512>::take();
    case 1024: return Lists<1024>::take();
    default: return nullptr;
  }
}

bool keep(std::size_t usable, void* block) noexcept {
  switch (usable) {
    case 64: return Lists<64>::keep(block);
    case 128: return Lists<128>::keep(block);
    case 256: return Lists<256>::keep(block);
    case 512: return Lists<512>::keep(block);
    case 1024: return Lists<1024>::keep(block);
    default: return false;
  }
}

BlockHeader* header_of(void* p) noexcept { return static_cast<BlockHeader*>(p) - 1; }

void* allocate(std::size_t n, void*) noexcept {
  const std::size_t cls = class_for(n);
  const std::size_t usable = cls ? cls : n;
  void* block = cls ? take(cls) : nullptr;
  if (!block) block = ::operator new(usable + sizeof(BlockHeader), std::nothrow);
  if (!block) return nullptr;
  auto* h = static_cast<BlockHeader*>(block);
  h->size = usable;
  h->cached = cls != 0;
  return h + 1;
}

void release(void* p, void*) noexcept {
  if (!p) return;
  BlockHeader* h = header_of(p);
  if (h->cached && keep(h->size, h)) return;
  ::operator delete(h);
}

void* allocate_zeroed(std::size_t count, std::size_t size, void* ud) noexcept {
  if (size != 0 && count > SIZE_MAX / size) return nullptr;
  void* p = allocate(count * size, ud);
  if (p) std::memset(p, 0, count * size);
  return p;
}

void* reallocate(void* p, std::size_t n, void* ud) noexcept {
  if (!p) return allocate(n, ud);
  const std::size_t old = header_of(p)->size;
  if (n <= old && header_of(p)->cached) return p;  // its class still holds it
  void* q = allocate(n, ud);
  if (!q) return nullptr;  // as realloc: the old block stays
  std::memcpy(q, p, std::min(old, n));
  release(p, ud);
  return q;
}

}  // namespace

nghttp2_mem* session_memory() noexcept {
#if defined(REBOUND_ASAN)
  return nullptr;
#else
  static nghttp2_mem mem{nullptr, allocate, release, allocate_zeroed, reallocate};
  return &mem;
#endif
}

}  // namespace rebound::h2
