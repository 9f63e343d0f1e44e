// Headers, Cancellation and the small to_string helpers of the public types.
#include <rebound/events.hpp>
#include <rebound/headers.hpp>
#include <rebound/request.hpp>
#include <rebound/response.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <map>
#include <utility>
#include <mutex>
#include <vector>

namespace rebound {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x != y && (x | 0x20) != (y | 0x20)) return false;
    if (x != y && !((x | 0x20) >= 'a' && (x | 0x20) <= 'z')) return false;
  }
  return true;
}

Headers& Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Headers& Headers::set(std::string name, std::string value) {
  remove(name);
  return add(std::move(name), std::move(value));
}

std::size_t Headers::remove(std::string_view name) {
  const auto before = fields_.size();
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
  return before - fields_.size();
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& f : fields_)
    if (iequals(f.first, name)) return std::string_view(f.second);
  return std::nullopt;
}

std::string_view Headers::value_or(std::string_view name, std::string_view fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

struct CancellationState {
  std::mutex mutex;
  bool cancelled = false;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, std::function<void()>> listeners;
};

Cancellation::Cancellation() : state_(std::make_shared<CancellationState>()) {}

void Cancellation::cancel() {
  // Listeners run under the lock: a Registration that ends (its request
  // completed, its Client gone) waits for a running listener, and none can
  // start after it ended. Listeners only post to I/O threads.
  std::lock_guard lock(state_->mutex);
  if (state_->cancelled) return;
  state_->cancelled = true;
  auto listeners = std::move(state_->listeners);
  state_->listeners.clear();
  for (auto& [id, f] : listeners) f();
}

bool Cancellation::cancelled() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->cancelled;
}

std::size_t Cancellation::attached() const {
  std::lock_guard lock(state_->mutex);
  return state_->listeners.size();
}

Cancellation::Registration Cancellation::on_cancel(std::function<void()> f) const {
  std::lock_guard lock(state_->mutex);
  if (state_->cancelled) {
    f();
    return {};
  }
  const std::uint64_t id = state_->next_id++;
  state_->listeners.emplace(id, std::move(f));
  return Registration(state_, id);
}

Cancellation::Registration::Registration(Registration&& o) noexcept
    : state_(std::move(o.state_)), id_(std::exchange(o.id_, 0)) {}

Cancellation::Registration& Cancellation::Registration::operator=(Registration&& o) noexcept {
  if (this != &o) {
    reset();
    state_ = std::move(o.state_);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void Cancellation::Registration::reset() noexcept {
  if (id_ == 0) return;
  if (auto state = state_.lock()) {
    std::lock_guard lock(state->mutex);
    state->listeners.erase(id_);
  }
  state_.reset();
  id_ = 0;
}

const char* to_string(Protocol p) noexcept { return p == Protocol::http2 ? "HTTP/2" : "HTTP/1.1"; }

const char* to_string(EventKind k) noexcept {
  switch (k) {
    case EventKind::dial_start: return "dial_start";
    case EventKind::dial_done: return "dial_done";
    case EventKind::dial_failed: return "dial_failed";
    case EventKind::connection_reused: return "connection_reused";
    case EventKind::request_start: return "request_start";
    case EventKind::request_done: return "request_done";
    case EventKind::retry: return "retry";
    case EventKind::goaway: return "goaway";
    case EventKind::ping_sent: return "ping_sent";
    case EventKind::ping_acked: return "ping_acked";
    case EventKind::connection_closed: return "connection_closed";
    case EventKind::tls_reloaded: return "tls_reloaded";
    case EventKind::redirect: return "redirect";
  }
  return "unknown";
}

Request& Request::body_replayable_source(BodySourceFactory factory, std::uint64_t content_length) {
  // One source at a time, made on first use and dropped by a rewind.
  struct Replay {
    BodySourceFactory factory;
    BodySource current;
  };
  auto replay = std::make_shared<Replay>(Replay{std::move(factory), nullptr});
  body_source(
      [replay]() -> std::string {
        if (!replay->current) replay->current = replay->factory();
        return replay->current();
      },
      content_length);
  body_rewind_ = [replay] { replay->current = nullptr; };
  return *this;
}

Request& Request::body_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    const std::string why = "cannot upload " + path + ": " + ec.message();
    return body_source([why]() -> std::string { throw std::runtime_error(why); });
  }
  return body_replayable_source(
      [path] {
        std::shared_ptr<std::FILE> file(std::fopen(path.c_str(), "rb"), [](std::FILE* f) {
          if (f) std::fclose(f);
        });
        if (!file) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
        return BodySource([file, path]() -> std::string {
          std::string chunk(64 * 1024, '\0');
          const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), file.get());
          if (n == 0 && std::ferror(file.get())) throw std::runtime_error("cannot read " + path);
          chunk.resize(n);
          return chunk;
        });
      },
      size);
}

}  // namespace rebound
