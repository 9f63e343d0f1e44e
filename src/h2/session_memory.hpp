// nghttp2's allocations for rebound's sessions, from per-thread free lists
// by size class instead of straight from malloc.
//
// Why: nghttp2 makes about 4 blocks per request (the stream, the request's
// copied fields, the outbound item, received field buffers) and frees them
// when the stream closes. A read that completes 100 streams frees 400
// blocks at once, and the next 100 requests make 400 again: glibc's
// per-thread cache holds 7 blocks of a size, so most took malloc's slow
// path. Here each thread keeps up to 256 freed blocks per class (64 B to
// 1 KiB; larger ones, such as the session's frame buffer, go straight to
// the heap), the same recycling as the Exchange's (recycling_allocator.hpp).
//
// Under AddressSanitizer nghttp2 keeps its own malloc, so a use after free
// inside a session is still caught.
//
// Thread safety: the free lists are per thread; a block may be freed on
// another thread than the one that made it (it joins that thread's list).
#pragma once

#include <nghttp2/nghttp2.h>

namespace rebound::h2 {

/// The allocator to create sessions with (nghttp2_session_client_new3);
/// nullptr (nghttp2's default) under AddressSanitizer.
nghttp2_mem* session_memory() noexcept;

}  // namespace rebound::h2
