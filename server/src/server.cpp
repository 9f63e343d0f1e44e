// Server: the public lifecycle (start, stop, kill, restart) and the
// fault-injection entry points. Everything protocol-specific lives in the
// sessions; this file only wires the listener, the I/O pool and the shared
// context together, and serialises lifecycle calls with one mutex.
#include "rebound/server/server.hpp"

#include <fstream>
#include <stdexcept>
#include <thread>

#include "builtin_routes.hpp"
#include "certificate_store.hpp"
#include "io_pool.hpp"
#include "listener.hpp"
#include "self_signed_cert.hpp"
#include "server_context.hpp"
#include "tls_context.hpp"

namespace rebound::server {

using detail::ConnectionHandle;
using detail::ConnectionRegistry;

namespace {
// After stop()'s grace, or during kill(), connections are already closing;
// this only bounds how long we wait for their handlers to finish.
constexpr std::chrono::seconds kJoinDeadline{2};
constexpr std::chrono::milliseconds kDrainPoll{5};
}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions options) : ctx(std::move(options)) {
    detail::add_builtin_routes(ctx.router);
    if (ctx.options.tls) {
      certs = detail::CertificateStore::from_options(ctx.options);
      ctx.tls = detail::make_tls_context(*certs, ctx.options.http2, ctx.options.client_ca_file);
    }
  }

  void start_locked(std::uint16_t port) {
    if (running) return;
    if (!ctx.options.client_ca_file.empty() && !ctx.options.tls)
      throw std::runtime_error("client certificates (client_ca_file) need tls");
    if (!ctx.options.request_log.empty()) ctx.stats.open_request_log(ctx.options.request_log);
    pool = std::make_unique<detail::IoPool>(ctx.options.threads);
    listener = std::make_shared<detail::Listener>(ctx, *pool);
    try {
      bound_port = listener->open(ctx.options.host, port);
    } catch (...) {
      listener.reset();
      pool.reset();
      throw;
    }
    ctx.registry.set_mode(ConnectionRegistry::Mode::open);
    listener->start();
    pool->run();
    running = true;
  }

  void stop_locked(std::chrono::milliseconds grace) {
    if (!running) return;
    listener->close();
    ConnectionRegistry::post_each(ctx.registry.set_mode(ConnectionRegistry::Mode::draining),
                                  [](ConnectionHandle& c) { c.drain(); });
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (ctx.registry.size() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(kDrainPoll);
    }
    kill_locked();
  }

  void kill_locked() {
    if (!running) return;
    listener->close();
    ConnectionRegistry::post_each(ctx.registry.set_mode(ConnectionRegistry::Mode::closed),
                                  [](ConnectionHandle& c) { c.abort(); });
    pool->shutdown(kJoinDeadline);
    // The listener's acceptor belongs to the pool's context: release it first.
    listener.reset();
    pool.reset();
    running = false;
  }

  std::mutex lifecycle;  // serialises start/stop/kill/restart
  detail::ServerContext ctx;
  std::unique_ptr<detail::CertificateStore> certs;
  // Declared after ctx: destroyed first, so no connection outlives ctx.
  std::unique_ptr<detail::IoPool> pool;
  std::shared_ptr<detail::Listener> listener;
  std::atomic<bool> running{false};
  std::atomic<std::uint16_t> bound_port{0};
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { kill(); }

void Server::start() {
  std::lock_guard lock(impl_->lifecycle);
  impl_->start_locked(impl_->ctx.options.port);
}

void Server::stop(std::chrono::milliseconds grace) {
  std::lock_guard lock(impl_->lifecycle);
  impl_->stop_locked(grace);
}

void Server::kill() {
  std::lock_guard lock(impl_->lifecycle);
  impl_->kill_locked();
}

void Server::restart() {
  std::lock_guard lock(impl_->lifecycle);
  impl_->kill_locked();  // no-op after stop() or kill()
  const std::uint16_t port = impl_->bound_port != 0 ? impl_->bound_port.load() : impl_->ctx.options.port;
  impl_->start_locked(port);
}

bool Server::running() const { return impl_->running; }

std::uint16_t Server::port() const { return impl_->bound_port; }

std::string Server::url() const {
  const std::string& host = impl_->ctx.options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(impl_->ctx.options.tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port());
}

std::string Server::certificate_pem() const {
  return impl_->certs ? impl_->certs->certificate_pem() : std::string();
}

std::string Server::certificate_file() const {
  return impl_->certs ? impl_->certs->certificate_file() : std::string();
}

void Server::route(std::string path, Handler handler) { impl_->ctx.router.add(std::move(path), std::move(handler)); }

void Server::send_goaway(std::int32_t last_stream_id, std::uint32_t error_code) {
  ConnectionRegistry::post_each(impl_->ctx.registry.snapshot(), [last_stream_id, error_code](ConnectionHandle& c) {
    c.goaway(last_stream_id, error_code);
  });
}

void Server::change_initial_window_size(std::uint32_t size) {
  ConnectionRegistry::post_each(impl_->ctx.registry.snapshot(),
                                [size](ConnectionHandle& c) { c.change_initial_window_size(size); });
}

void Server::refuse_streams(bool on) { impl_->ctx.faults.refuse_streams(on); }

void Server::reset_next_streams(int count, std::uint32_t error_code) {
  impl_->ctx.faults.reset_next_streams(count, error_code);
}

void Server::drop_next_requests(int count) { impl_->ctx.faults.drop_next_requests(count); }
void Server::answer_busy_next(int count, int retry_after_seconds, int status) {
  impl_->ctx.faults.answer_busy_next(count, status, retry_after_seconds);
}

ServerStats Server::stats() const { return impl_->ctx.stats.snapshot(); }

void Server::reset_stats() { impl_->ctx.stats.reset(); }

void write_self_signed_certificate(const std::string& cert_path, const std::string& key_path) {
  const auto pem = detail::generate_self_signed_certificate();
  for (const auto& [path, text] : {std::pair{cert_path, pem.certificate}, std::pair{key_path, pem.private_key}}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
  }
}

}  // namespace rebound::server
