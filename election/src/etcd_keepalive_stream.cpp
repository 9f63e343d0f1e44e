// Renewals on one LeaseKeepAlive stream: see etcd_keepalive_stream.hpp.
#include "etcd_keepalive_stream.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace rebound::lease::detail {

namespace {
// A stream is reopened when it ends; its deadline only bounds how long a
// forgotten one could live.
constexpr std::chrono::hours stream_lifetime{1};
}  // namespace

// What the stream delivered, shared with its callbacks on the I/O thread.
struct KeepAliveStream::Inbox {
  std::mutex m;
  std::condition_variable changed;
  std::deque<std::string> answers;
  bool ended = false;
  bool cancelled = false;
};

void KeepAliveStream::open(const std::string& endpoint) {
  endpoint_ = endpoint;
  inbox_ = std::make_shared<Inbox>();
  grpc::Channel channel(client_, endpoint);
  grpc::CallOptions options;
  options.timeout = stream_lifetime;
  options.write_buffer = 4096;  // a keepalive is a dozen bytes; one waits at a time
  call_.emplace(channel.bidi_streaming(
      "/etcdserverpb.Lease/LeaseKeepAlive",
      [inbox = inbox_](std::string_view answer) {
        std::lock_guard lock(inbox->m);
        inbox->answers.emplace_back(answer);
        inbox->changed.notify_all();
        return true;
      },
      options,
      [inbox = inbox_](const grpc::Status&) {
        std::lock_guard lock(inbox->m);
        inbox->ended = true;
        inbox->changed.notify_all();
      }));
  ++opened_;
}

void KeepAliveStream::close() {
  call_.reset();  // cancels a running stream and waits for its end
  inbox_.reset();
}

grpc::Status KeepAliveStream::keep_alive(const std::string& endpoint, std::int64_t lease,
                                         std::chrono::milliseconds timeout, const Cancellation& cancel,
                                         rebound_etcd::v3::LeaseKeepAliveResponse& reply) {
  if (call_ && (endpoint != endpoint_ || call_->done())) close();
  rebound_etcd::v3::LeaseKeepAliveRequest request;
  request.set_id(lease);
  const std::string message = request.SerializeAsString();
  // A stream that ended since the last renewal is replaced once: its end
  // says nothing about this renewal.
  for (int tries = 0; tries < 2; ++tries) {
    if (!call_) open(endpoint);
    if (call_->write(message)) break;
    if (tries == 1) {
      grpc::Status s = call_->wait();
      close();
      return s;
    }
    close();
  }
  auto inbox = inbox_;
  const auto registration = cancel.on_cancel([inbox] {
    std::lock_guard lock(inbox->m);
    inbox->cancelled = true;
    inbox->changed.notify_all();
  });
  std::unique_lock lock(inbox->m);
  inbox->changed.wait_for(lock, timeout, [&] { return !inbox->answers.empty() || inbox->ended || inbox->cancelled; });
  if (!inbox->answers.empty()) {
    const std::string answer = std::move(inbox->answers.front());
    inbox->answers.pop_front();
    lock.unlock();
    grpc::Status ok;
    if (!reply.ParseFromString(answer)) {
      close();
      ok.code = grpc::StatusCode::internal;
      ok.message = "unreadable LeaseKeepAlive answer";
    }
    return ok;
  }
  const bool ended = inbox->ended, cancelled = inbox->cancelled;
  lock.unlock();
  grpc::Status s;
  if (ended) {
    s = call_->wait();
    if (s.ok()) {  // ended by the server without an answer
      s.code = grpc::StatusCode::unavailable;
      s.message = "the LeaseKeepAlive stream ended without answering";
    }
  } else {
    s.code = cancelled ? grpc::StatusCode::cancelled : grpc::StatusCode::deadline_exceeded;
    s.message = cancelled ? "renewal cancelled" : "no LeaseKeepAlive answer within " +
                                                      std::to_string(timeout.count()) + " ms on the open stream";
  }
  // A late answer must not be taken for the next renewal's.
  close();
  return s;
}

}  // namespace rebound::lease::detail
