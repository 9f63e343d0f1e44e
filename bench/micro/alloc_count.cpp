// rebound_alloc_count: heap allocations per warm request, counted by a
// replaced operator new (C++: rebound, Asio, the standard library) and by
// an interposed malloc (the rest are the C libraries': nghttp2, OpenSSL).
//
// A closed loop keeps W requests in flight on one HTTP/2 connection to the
// embedded server (forked child, peer.hpp) or to --url; after a warm-up
// (the connection, the caches, the queues' capacity) it counts N requests.
// The caller's own part - copying the prototype Request it sends - is not
// counted: an application builds its request whatever the client does.
//
//   rebound_alloc_count [--requests N] [--window W] [--tls] [--own] [--url URL]
//
// --own runs the Client on its own I/O thread; the default is the caller's
// executor (an io_context this thread runs). Prints one line of figures.
#include "peer.hpp"

#include <rebound/rebound.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
}

namespace {
std::atomic<std::uint64_t> g_new{0}, g_malloc{0};
std::atomic<bool> g_counting{false};
thread_local bool t_paused = false;

inline void count(std::atomic<std::uint64_t>& c) {
  if (g_counting.load(std::memory_order_relaxed) && !t_paused) c.fetch_add(1, std::memory_order_relaxed);
}

// What the caller does for itself, outside rebound: not counted.
struct Paused {
  Paused() { t_paused = true; }
  ~Paused() { t_paused = false; }
};
}  // namespace

// Every C allocation of the process goes through these (symbol
// interposition); operator new below calls malloc too, and is subtracted.
extern "C" void* malloc(std::size_t n) {
  count(g_malloc);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t size) {
  count(g_malloc);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, std::size_t n) {
  count(g_malloc);
  return __libc_realloc(p, n);
}

void* operator new(std::size_t n) {
  count(g_new);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct Flags {
  std::uint64_t requests = 20000;
  std::uint64_t window = 100;
  bool tls = false;
  bool own = false;
  std::string url;
};

class Loop {
 public:
  Loop(rebound::Client& client, rebound::Request prototype) : client_(client), prototype_(std::move(prototype)) {}

  /// Issues `total` requests, `window` at a time; `on_all_done` runs on the
  /// thread that finishes the last one.
  void start(std::uint64_t total, std::uint64_t window, std::function<void()> on_all_done) {
    issued_ = 0;
    outstanding_ = 0;
    total_ = total;
    on_all_done_ = std::move(on_all_done);
    for (std::uint64_t i = 0; i < window; ++i) launch();
  }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  bool launch() {
    if (issued_.fetch_add(1) >= total_) return false;
    outstanding_.fetch_add(1);
    rebound::Request r = [&] {
      Paused p;
      return prototype_;
    }();
    client_.send_async(std::move(r), [this](rebound::Result<rebound::Response> res) {
      if (!res || res->status() != 200) failures_.fetch_add(1);
      const bool more = launch();
      if (outstanding_.fetch_sub(1) == 1 && !more) on_all_done_();
    });
    return true;
  }

  rebound::Client& client_;
  rebound::Request prototype_;
  std::atomic<std::uint64_t> issued_{0}, outstanding_{0}, failures_{0};
  std::uint64_t total_ = 0;
  std::function<void()> on_all_done_;
};

// Runs `total` requests and waits for them, on either kind of Client.
struct Runner {
  boost::asio::io_context* io = nullptr;  // the caller's-executor mode
  rebound::Client* client = nullptr;
  rebound::Request prototype;

  std::uint64_t run(std::uint64_t total, std::uint64_t window) {
    Loop loop(*client, prototype);
    if (io) {
      boost::asio::post(*io, [&] { loop.start(total, window, [&] { io->stop(); }); });
      io->restart();
      io->run();
      return loop.failures();
    }
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    loop.start(total, window, [&] {
      std::lock_guard lock(m);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done; });
    return loop.failures();
  }
};

int usage() {
  std::fprintf(stderr, "usage: rebound_alloc_count [--requests N] [--window W] [--tls] [--own] [--url URL]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tls") f.tls = true;
    else if (a == "--own") f.own = true;
    else if (a == "--requests" && i + 1 < argc) f.requests = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--window" && i + 1 < argc) f.window = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--url" && i + 1 < argc) f.url = argv[++i];
    else return usage();
  }
  if (f.url.empty()) {
    // Before any thread exists: fork() is only safe then.
    if (!rebound_bench::start_peer()) {
      std::fprintf(stderr, "rebound_alloc_count: embedded server did not start\n");
      return 1;
    }
    f.url = (f.tls ? rebound_bench::peer().tls_url() : rebound_bench::peer().h2c_url()) + "/bytes/64";
  }
  rebound::Options o;
  o.http_version = rebound::HttpVersion::http2_prior_knowledge;
  o.tls.verify_peer = false;
  o.io_threads = 1;
  o.max_conns_per_origin = 1;
  o.max_streams_per_connection = static_cast<std::uint32_t>(f.window);
  o.max_queued_per_origin = 1u << 20;

  boost::asio::io_context io(1);
  std::unique_ptr<rebound::Client> client =
      f.own ? std::make_unique<rebound::Client>(o) : std::make_unique<rebound::Client>(io.get_executor(), o);
  Runner runner{f.own ? nullptr : &io, client.get(), rebound::Request::get(f.url)};

  // Warm: the connection, Asio's recycled handler memory, the queues' capacity.
  std::uint64_t failed = runner.run(std::max<std::uint64_t>(2000, 4 * f.window), f.window);
  g_counting = true;
  failed += runner.run(f.requests, f.window);
  g_counting = false;
  const double n = double(f.requests);
  const double cxx = double(g_new.load()) / n;
  const double c = double(g_malloc.load() - g_new.load()) / n;
  std::printf("%s %s, %llu requests, %llu in flight: %.2f operator new per request (rebound, Asio, std), "
              "%.2f malloc per request by C libraries (nghttp2, OpenSSL), %llu failed\n",
              f.own ? "own thread" : "caller's executor", f.tls ? "TLS" : "h2c",
              static_cast<unsigned long long>(f.requests), static_cast<unsigned long long>(f.window), cxx, c,
              static_cast<unsigned long long>(failed));
  client.reset();
  io.restart();
  io.run();
  return failed == 0 ? 0 : 1;
}
