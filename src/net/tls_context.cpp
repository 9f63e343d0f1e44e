// The current TLS material and its reloads; see tls_context.hpp.
#include "net/tls_context.hpp"

namespace rebound::net {

TlsContext::TlsContext(const Options& options)
    : options_(options.tls),
      current_(load_tls_material(options_)),
      stamps_(stamp_tls_files(options_)),
      next_check_(std::chrono::steady_clock::now() + options_.reload_interval),
      watching_(options_.reload_interval.count() > 0 && !stamps_.empty()) {
  TlsSessionCache::enable(current_->context.native_handle());
}

std::shared_ptr<asio::ssl::context> TlsContext::for_handshake(std::uint64_t* generation) {
  std::lock_guard lock(mutex_);
  if (generation) *generation = generation_.load(std::memory_order_relaxed);
  if (current_->needs_system_store) {
    // A missing system store is not fatal here: verification then fails
    // with certificate_verify_failed, which names the real problem.
    boost::system::error_code ignored;
    current_->context.set_default_verify_paths(ignored);
    current_->needs_system_store = false;
  }
  return {current_, &current_->context};
}

std::optional<TlsContext::ReloadNote> TlsContext::maybe_reload(std::chrono::steady_clock::time_point now) {
  if (!watching_) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (now < next_check_) return std::nullopt;
  next_check_ = now + options_.reload_interval;
  auto stamps = stamp_tls_files(options_);
  if (stamps == stamps_) return std::nullopt;
  stamps_ = std::move(stamps);
  try {
    current_ = load_tls_material(options_);
    TlsSessionCache::enable(current_->context.native_handle());
    generation_.fetch_add(1, std::memory_order_release);
    // Sessions of the old material would resume as the old identity (the
    // server keeps the certificate a session was made with).
    sessions_->clear();
    return ReloadNote{{}, "TLS files changed; new connections use the new material, open ones retire"};
  } catch (const Exception& e) {
    return ReloadNote{e.error().code(), "TLS files changed but are unusable (" + e.error().message() +
                                            "); new connections keep the previous material"};
  }
}

}  // namespace rebound::net
