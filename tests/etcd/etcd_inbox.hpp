// What a bidirectional etcd stream delivered, for a test thread to wait on,
// and the small messages the stream tests send.
#pragma once

#include "etcd_calls.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rebound::testing {

/// Messages of one type as a stream delivers them.
template <class Message>
struct Inbox {
  std::mutex m;
  std::condition_variable cv;
  std::vector<Message> got;
  std::function<bool(std::string_view)> sink() {
    return [this](std::string_view bytes) {
      Message msg;
      if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
      std::lock_guard lock(m);
      got.push_back(std::move(msg));
      cv.notify_all();
      return true;
    };
  }
  /// Waits until `n` messages arrived; false after `timeout`.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return got.size() >= n; });
  }
  std::vector<Message> all() {
    std::lock_guard lock(m);
    return got;
  }
};

/// A new lease of 5 s; 0 when the grant failed.
inline std::int64_t grant_lease(rebound::Client& client, const std::string& url) {
  rebound_etcd::v3::LeaseGrantRequest grant;
  grant.set_ttl(5);
  auto granted = etcd_call<rebound_etcd::v3::LeaseGrantResponse>(client, url, "/etcdserverpb.Lease/LeaseGrant",
                                                                 grant, std::chrono::seconds(5));
  return granted ? granted->id() : 0;
}

/// One LeaseKeepAlive message for `lease`.
inline std::string keepalive(std::int64_t lease) {
  rebound_etcd::v3::LeaseKeepAliveRequest k;
  k.set_id(lease);
  return k.SerializeAsString();
}

}  // namespace rebound::testing
