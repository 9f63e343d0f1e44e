// rebound_idle_memory: what an idle pooled connection costs the client -
// the growth of this process's resident memory over N idle HTTP/2
// connections (TLS by default) to the embedded server in a forked child
// (peer.hpp), divided by N (#26 item 4: at most 48 KiB over TLS).
//
// The connections go to origins h<i>.idle.test (resolved to 127.0.0.1 by
// Options::resolve), K per origin (--per-origin; default 1, which counts
// an origin's pool, resolve entry and TLS session with each connection: a
// conservative figure). With K > 1 each origin allows one stream per
// connection and gets K requests that the server holds for a while
// (/delay), so its pool dials K connections, one at a time as it does for
// HTTP/2. One request per connection makes it live; then the connections
// sit idle (idle reaping and PINGs off) while the memory is read.
//
//   rebound_idle_memory [--connections N] [--per-origin K] [--h2c] [--max-kib M]
//
// Prints one line; exits non-zero when not every connection was made, or
// when a connection costs more than M KiB (CI runs it so: a regression
// guard on a figure that does not depend on the machine's load).
#include "peer.hpp"

#include <rebound/rebound.hpp>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

namespace {

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 10000;
  int per_origin = 1;
  double max_kib = 0;
  bool tls = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--connections") && i + 1 < argc) connections = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--per-origin") && i + 1 < argc) per_origin = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--max-kib") && i + 1 < argc) max_kib = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--h2c")) tls = false;
    else {
      std::fprintf(stderr, "usage: %s [--connections N] [--per-origin K] [--h2c] [--max-kib M]\n", argv[0]);
      return 2;
    }
  }
  if (!rebound_bench::start_peer()) {
    std::fprintf(stderr, "the embedded server did not start\n");
    return 1;
  }
  const auto& peer = rebound_bench::peer();
  const std::uint16_t port = tls ? peer.tls_port : peer.h2c_port;
  const std::string scheme = tls ? "https://" : "http://";

  rebound::Options o;
  o.tls.verify_peer = false;  // the server's certificate names 127.0.0.1, not the test names
  if (!tls) o.http_version = rebound::HttpVersion::http2_prior_knowledge;
  o.read_idle_timeout = std::chrono::milliseconds(0);  // no PINGs
  o.idle_timeout = std::chrono::hours(1);              // no reaping
  o.tcp_keepalive = false;
  o.max_queued_per_origin = static_cast<std::uint32_t>(per_origin) + 10;
  o.max_conns_per_origin = static_cast<std::uint32_t>(per_origin);
  if (per_origin > 1) o.max_streams_per_connection = 1;
  const int origins = (connections + per_origin - 1) / per_origin;
  for (int i = 0; i <= origins; ++i)
    o.resolve.push_back({"h" + std::to_string(i) + ".idle.test", port, {"127.0.0.1"}});
  rebound::Client client(o);
  // Held long enough for an origin's pool to dial all its connections
  // (each waits for the last one's SETTINGS; 10,000 TLS handshakes take
  // seconds of CPU).
  const std::string path = per_origin > 1 ? "/delay/" + std::to_string(4000 + 80 * per_origin) : "/bytes/64";
  const auto url = [&](int origin) {
    return scheme + "h" + std::to_string(origin) + ".idle.test:" + std::to_string(port) + path;
  };

  // Warm: the client's thread, TLS context and first pool exist before the baseline.
  if (auto r = client.send(rebound::Request("GET", scheme + "h" + std::to_string(origins) + ".idle.test:" +
                                                     std::to_string(port) + "/bytes/64"));
      !r) {
    std::fprintf(stderr, "warm-up failed: %s\n", r.error().message().c_str());
    return 1;
  }
  ::malloc_trim(0);
  const long before = resident_bytes();

  std::mutex mutex;
  std::condition_variable done_cv;
  int done = 0, failed = 0;
  std::string first_error;
  // At most 256 origins dialing at once: a listen backlog's worth, not a SYN flood.
  std::atomic<int> in_flight{0};
  for (int i = 0; i < connections; ++i) {
    while (in_flight.load() >= 256 * per_origin) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++in_flight;
    client.send_async(rebound::Request("GET", url(i / per_origin)), [&](rebound::Result<rebound::Response> r) {
      std::lock_guard lock(mutex);
      --in_flight;
      if (!r) {
        ++failed;
        if (first_error.empty()) first_error = r.error().message();
      }
      ++done;
      done_cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    done_cv.wait(lock, [&] { return done == connections; });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last reads and writes settle
  ::malloc_trim(0);
  const long after = resident_bytes();
  const auto counters = client.counters();
  const auto open = static_cast<long>(counters.connections_open) - static_cast<long>(counters.connections_closed) - 1;
  std::printf("%s idle connections: %ld open (%d asked, %d per origin, %d failed), resident +%.1f MiB, %.1f KiB per "
              "connection\n",
              tls ? "TLS HTTP/2" : "h2c", open, connections, per_origin, failed, (after - before) / 1048576.0,
              open > 0 ? (after - before) / 1024.0 / static_cast<double>(open) : 0.0);
  if (failed > 0) std::fprintf(stderr, "first failure: %s\n", first_error.c_str());
  const double kib = open > 0 ? (after - before) / 1024.0 / static_cast<double>(open) : 0.0;
  if (max_kib > 0 && kib > max_kib) {
    std::fprintf(stderr, "%.1f KiB per idle connection is over the %.1f KiB allowed\n", kib, max_kib);
    return 1;
  }
  return failed == 0 && open == connections ? 0 : 1;
}
