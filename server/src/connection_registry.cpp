// ConnectionRegistry: see connection_registry.hpp.
#include "connection_registry.hpp"

#include <boost/asio/post.hpp>

namespace rebound::server::detail {

ConnectionRegistry::Admission ConnectionRegistry::admit(std::uint64_t id,
                                                        const std::shared_ptr<ConnectionHandle>& handle,
                                                        boost::asio::any_io_executor executor) {
  std::lock_guard lock(mutex_);
  entries_[id] = Entry{handle, handle.get(), std::move(executor)};
  switch (mode_) {
    case Mode::open: return Admission::serve;
    case Mode::draining: return Admission::drain;
    case Mode::closed: return Admission::abort;
  }
  return Admission::abort;
}

void ConnectionRegistry::remove(std::uint64_t id, const ConnectionHandle* who) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.identity == who) entries_.erase(it);
}

std::vector<ConnectionRegistry::Entry> ConnectionRegistry::set_mode(Mode mode) {
  std::lock_guard lock(mutex_);
  mode_ = mode;
  return snapshot_locked();
}

std::vector<ConnectionRegistry::Entry> ConnectionRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_locked();
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::vector<ConnectionRegistry::Entry> ConnectionRegistry::snapshot_locked() const {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(entry);
  return out;
}

void ConnectionRegistry::post_each(const std::vector<Entry>& entries,
                                   std::function<void(ConnectionHandle&)> action) {
  for (const auto& entry : entries) {
    boost::asio::post(entry.executor, [handle = entry.handle, action] {
      if (auto live = handle.lock()) action(*live);
    });
  }
}

}  // namespace rebound::server::detail
