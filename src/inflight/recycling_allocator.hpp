// An allocator that keeps freed blocks of one type for the next allocation
// on the same thread: for objects made and freed once per request (the
// Exchange and its shared_ptr control block, through std::allocate_shared).
//
// Why: a closed loop with N requests in flight frees N exchanges in a burst
// (one read completes many streams) and then makes N again. glibc's
// per-thread cache keeps 7 chunks of a size, so most of them took malloc's
// slow path: ~500 instructions per request for the exchange alone (callgrind,
// 1 connection x 100 streams). Here each thread keeps up to `kept` blocks
// per type; beyond that they go back to the heap, so a thread that only
// frees (a caller's thread whose requests complete elsewhere) holds at most
// that many, and a thread's blocks are freed when it ends.
#pragma once

#include <cstddef>
#include <new>

namespace rebound::inflight {

namespace detail {
/// The blocks of `size` bytes this thread keeps. The state is trivially
/// destructible, so it can still be asked after the thread's cleanup has
/// freed the blocks (an object freed by another thread_local's destructor,
/// or a static's after main): it then keeps nothing.
template <std::size_t size>
struct BlockCache {
  static constexpr std::size_t kept = 256;
  struct State {
    void* blocks[kept];
    std::size_t count;
    bool registered;
    bool ended;
  };
  static inline thread_local State state{};
  struct Cleanup {
    ~Cleanup() {
      while (state.count) ::operator delete(state.blocks[--state.count]);
      state.ended = true;
    }
  };

  static void* take() noexcept { return state.count ? state.blocks[--state.count] : nullptr; }
  static bool keep(void* p) noexcept {
    if (state.ended || state.count == kept) return false;
    if (!state.registered) {
      static thread_local Cleanup cleanup;  // frees what is kept when the thread ends
      (void)cleanup;
      state.registered = true;
    }
    state.blocks[state.count++] = p;
    return true;
  }
};
}  // namespace detail

template <class T>
class RecyclingAllocator {
 public:
  using value_type = T;
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "blocks come from plain operator new");

  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n == 1)
      if (void* p = detail::BlockCache<sizeof(T)>::take()) return static_cast<T*>(p);
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1 && detail::BlockCache<sizeof(T)>::keep(p)) return;
    ::operator delete(p);
  }

  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept {
    return true;  // stateless: any instance frees what another allocated
  }
};

}  // namespace rebound::inflight
