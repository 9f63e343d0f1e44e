// EtcdKeyWatch: see etcd_key_watch.hpp.
#include "etcd_key_watch.hpp"

#include "rebound_etcd/rpc.pb.h"

#include <mutex>

namespace rebound::lease::detail {

namespace v3 = rebound_etcd::v3;

struct EtcdKeyWatch::Shared {
  std::function<void()> on_change;
  mutable std::mutex mutex;
  bool changed = false;
  std::string what;

  // The first change wins; later messages are ignored.
  void seen(std::string description) {
    {
      std::lock_guard lock(mutex);
      if (changed) return;
      changed = true;
      what = std::move(description);
    }
    on_change();
  }
};

namespace {

// What a watch response says changed, if anything.
std::optional<std::string> change_in(const v3::WatchResponse& r) {
  if (r.canceled())
    return "the watch was cancelled by etcd (" +
           (r.cancel_reason().empty() ? "compacted at " + std::to_string(r.compact_revision()) : r.cancel_reason()) +
           ")";
  if (r.events_size() == 0) return std::nullopt;  // created, or a progress notice
  const auto& e = r.events(0);
  if (e.type() == v3::Event::DELETE) return std::string("deleted");
  return "written by " + e.kv().value();
}

}  // namespace

EtcdKeyWatch::EtcdKeyWatch(grpc::Channel channel, const std::string& key, std::int64_t from_revision,
                           std::chrono::milliseconds timeout, std::function<void()> on_change)
    : shared_(std::make_shared<Shared>()) {
  shared_->on_change = std::move(on_change);
  grpc::CallOptions options;
  options.timeout = std::max(timeout, std::chrono::milliseconds(1));
  options.write_buffer = 4096;
  // Holds the shared state, not this: the stream may deliver until the
  // destructor's cancel has ended it.
  auto on_message = [shared = shared_](std::string_view message) {
    v3::WatchResponse response;
    if (!response.ParseFromArray(message.data(), static_cast<int>(message.size()))) return false;
    auto change = change_in(response);
    if (!change) return true;
    shared->seen(std::move(*change));
    return false;  // one change is all the elector needs: end the stream
  };
  call_.emplace(channel.bidi_streaming("/etcdserverpb.Watch/Watch", std::move(on_message), options));
  v3::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(key);
  create->set_start_revision(from_revision);
  // Never blocks: the stream is new and the buffer holds this one message.
  // A full or ended call reports nothing, and the timer ends the wait.
  (void)call_->try_write(request.SerializeAsString());
}

EtcdKeyWatch::~EtcdKeyWatch() {
  if (call_) call_->cancel();
  call_.reset();  // waits for the stream's end: no callback runs after this
}

bool EtcdKeyWatch::changed() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->changed;
}

std::string EtcdKeyWatch::what() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->what;
}

}  // namespace rebound::lease::detail
