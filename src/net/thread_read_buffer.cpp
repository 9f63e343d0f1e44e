// The one read buffer per thread behind Stream::async_read_shared.
#include "net/stream.hpp"

#include <vector>

namespace rebound::net {

std::span<std::uint8_t> thread_read_buffer() {
  // A burst of frames per read, as the per-connection buffer read before.
  // Made on first use (a thread that reads nothing holds none), freed with
  // the thread.
  thread_local std::vector<std::uint8_t> buffer(64 * 1024);
  return buffer;
}

}  // namespace rebound::net
