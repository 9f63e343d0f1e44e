// FaultProxy's public API: the lifecycle (created, running, stopped), the
// I/O thread, and marshalling each control call onto that thread so it is
// in effect when the call returns.
#include "rebound/proxy/fault_proxy.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "listener.hpp"
#include "proxy_context.hpp"
#include "session.hpp"

namespace rebound::proxy {

struct FaultProxy::Impl {
  enum class Lifecycle {
    created,  ///< not started: control calls just record settings
    running,  ///< the I/O thread runs: control calls go through it
    stopped,  ///< final
  };

  explicit Impl(ProxyOptions o) : options(std::move(o)) {}

  /// Runs `f` on the I/O thread and waits for it; runs it here when no I/O
  /// thread is running (nothing else touches the state then).
  template <class F>
  void run_on_io(F f) {
    std::lock_guard lock(control);
    if (lifecycle != Lifecycle::running) {
      f();
      return;
    }
    std::promise<void> done;
    boost::asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  ProxyOptions options;
  // Declared first so it is destroyed last: sockets and pending handlers
  // (which own sessions) need it while they are destroyed.
  boost::asio::io_context io{1};
  detail::ProxyContext ctx{io};
  detail::Listener listener{ctx};
  std::atomic<std::uint16_t> port{0};
  std::mutex control;  ///< serialises control calls and lifecycle changes
  Lifecycle lifecycle = Lifecycle::created;
  std::thread thread;
};

FaultProxy::FaultProxy(ProxyOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::start() {
  Impl& p = *impl_;
  std::lock_guard lock(p.control);
  if (p.lifecycle != Impl::Lifecycle::created) throw std::logic_error("FaultProxy::start called twice");
  boost::asio::ip::tcp::resolver resolver(p.io);
  p.ctx.upstream = resolver.resolve(p.options.target_host, std::to_string(p.options.target_port));
  p.port = p.listener.open(p.options.listen_host, p.options.listen_port);
  p.listener.start();
  p.lifecycle = Impl::Lifecycle::running;
  p.thread = std::thread([&p] { p.io.run(); });
}

void FaultProxy::stop() {
  Impl& p = *impl_;
  p.run_on_io([&p] {
    p.listener.close();
    for (auto& s : p.ctx.sessions.snapshot()) s->close();
  });
  std::lock_guard lock(p.control);
  if (p.lifecycle == Impl::Lifecycle::running) {
    p.io.stop();  // what is left are aborted completions of the closes above
    p.thread.join();
  }
  p.lifecycle = Impl::Lifecycle::stopped;
}

std::uint16_t FaultProxy::port() const { return impl_->port.load(); }

void FaultProxy::set_mode(Mode m) {
  Impl& p = *impl_;
  p.run_on_io([&p, m] {
    p.ctx.mode = m;
    switch (m) {
      case Mode::pass:
        for (auto& s : p.ctx.sessions.snapshot()) s->resume();
        break;
      case Mode::reset:
        for (auto& s : p.ctx.sessions.snapshot()) s->reset();
        break;
      case Mode::blackhole:
        break;  // relays check paused() before starting anything
    }
  });
}

void FaultProxy::set_delay(std::chrono::milliseconds d) {
  Impl& p = *impl_;
  p.run_on_io([&p, d] { p.ctx.delay = d; });
}

void FaultProxy::cut_after_bytes(std::uint64_t n) {
  Impl& p = *impl_;
  p.run_on_io([&p, n] { p.ctx.cut_after_bytes = n; });
}

void FaultProxy::reset_all() {
  Impl& p = *impl_;
  p.run_on_io([&p] {
    for (auto& s : p.ctx.sessions.snapshot()) s->reset();
  });
}

void FaultProxy::blackhole_current() {
  Impl& p = *impl_;
  p.run_on_io([&p] {
    for (auto& s : p.ctx.sessions.snapshot()) s->sever();
  });
}

FaultProxy::Stats FaultProxy::stats() const {
  const auto& c = impl_->ctx.counters;
  Stats s;
  s.accepted = c.accepted.load(std::memory_order_relaxed);
  s.bytes_client_to_server = c.client_to_server.load(std::memory_order_relaxed);
  s.bytes_server_to_client = c.server_to_client.load(std::memory_order_relaxed);
  s.open = c.open.load(std::memory_order_relaxed);
  return s;
}

}  // namespace rebound::proxy
