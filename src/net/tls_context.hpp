// The client's TLS configuration: the current TLS material shared by every
// dial of a Client, and its reload when the CA, certificate or key files
// change (new connections get the new material; the pools retire open ones).
// The system trust store is loaded only when a dial first needs it: it
// parses ~150 certificates (~40 ms), and a client that speaks h2c or does
// not verify never pays for it.
#pragma once

#include "net/tls_material.hpp"
#include "net/tls_session_cache.hpp"

#include <rebound/error.hpp>
#include <rebound/options.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace rebound::net {

namespace asio = boost::asio;

class TlsContext {
 public:
  /// Loads the material at once: throws rebound::Exception
  /// (errc::tls_configuration) when it is unusable (see load_tls_material).
  explicit TlsContext(const Options& options);

  /// The context for a new handshake (trust store loaded if verification
  /// is on). Thread-safe. The SSL object made from it holds its own
  /// reference, so a reload never pulls it from under a handshake.
  /// `generation` (if set) receives the material's generation().
  std::shared_ptr<asio::ssl::context> for_handshake(std::uint64_t* generation = nullptr);
  /// Counts the material loaded: 1 at construction, +1 for each reload
  /// that replaced it. Connections dialed with an older one are retired.
  /// Thread-safe.
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

  /// What a reload check did, for an event.
  struct ReloadNote {
    error_code error;    ///< set when the changed files were unusable
    std::string detail;
  };
  /// When reload_interval has passed since the last check, looks at the
  /// files and loads them if they changed. Unusable new files keep the last
  /// good material (and are looked at again once they change again).
  /// Thread-safe; cheap when no check is due.
  std::optional<ReloadNote> maybe_reload(std::chrono::steady_clock::time_point now);

  /// The sessions dials resume (see tls_session_cache.hpp); cleared by a
  /// reload that replaced the material. Thread-safe.
  TlsSessionCache& sessions() noexcept { return *sessions_; }

 private:
  const TlsOptions options_;
  std::mutex mutex_;
  std::shared_ptr<TlsMaterial> current_;       // guarded by mutex_
  std::vector<FileStamp> stamps_;              // guarded by mutex_
  std::chrono::steady_clock::time_point next_check_;  // guarded by mutex_
  bool watching_ = false;
  std::atomic<std::uint64_t> generation_{1};  // written under mutex_
  std::shared_ptr<TlsSessionCache> sessions_ = std::make_shared<TlsSessionCache>();
};

}  // namespace rebound::net
