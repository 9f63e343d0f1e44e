// TLS session cache; see tls_session_cache.hpp.
#include "net/tls_session_cache.hpp"

#include <algorithm>

namespace rebound::net {
namespace {

// What an SSL object carries for the new-session callback.
struct Tag {
  std::weak_ptr<TlsSessionCache> cache;
  std::string key;
};

void free_tag(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<Tag*>(ptr); }

int tag_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_tag);
  return index;
}

}  // namespace

void TlsSessionCache::enable(SSL_CTX* ctx) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsSessionCache::on_new_session);
}

bool TlsSessionCache::prepare(SSL* ssl, const std::string& key) {
  auto* old = static_cast<Tag*>(SSL_get_ex_data(ssl, tag_index()));
  delete old;
  SSL_set_ex_data(ssl, tag_index(), new Tag{weak_from_this(), key});
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) return false;
  SSL_SESSION* s = it->second.second.get();
  if (!SSL_SESSION_is_resumable(s)) {
    sessions_.erase(it);
    return false;
  }
  // A copy again: the connection's abrupt close would mark the cached
  // object itself not resumable (TLS 1.2 resumes without a new session).
  SSL_SESSION* copy = SSL_SESSION_dup(s);
  if (!copy) return false;
  const bool offered = SSL_set_session(ssl, copy) == 1;  // takes its own reference
  SSL_SESSION_free(copy);
  return offered;
}

void TlsSessionCache::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  sessions_.erase(key);
}

void TlsSessionCache::clear() {
  std::lock_guard lock(mutex_);
  sessions_.clear();
}

std::size_t TlsSessionCache::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

int TlsSessionCache::on_new_session(SSL* ssl, SSL_SESSION* session) {
  const auto* tag = static_cast<const Tag*>(SSL_get_ex_data(ssl, tag_index()));
  if (!tag) return 0;
  auto cache = tag->cache.lock();
  if (!cache) return 0;
  // A copy: OpenSSL marks the SSL's own session not resumable when the
  // connection is freed without a close_notify, as ours are (Stream::close),
  // and under TLS 1.3 that object is the one the last ticket arrived in.
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (copy) cache->store(tag->key, copy);
  return 0;  // OpenSSL keeps its reference to `session`
}

void TlsSessionCache::store(const std::string& key, SSL_SESSION* session) {
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions && !sessions_.contains(key)) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
    sessions_.erase(oldest);
  }
  // The newest wins: a TLS 1.3 server sends two tickets; either resumes.
  sessions_[key] = {++stored_, std::unique_ptr<SSL_SESSION, SessionFree>(session)};
}

}  // namespace rebound::net
