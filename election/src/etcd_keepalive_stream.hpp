// The etcd lock's renewals on one long-lived LeaseKeepAlive stream, as
// etcd's own client keeps one: each renewal writes a message on the open
// stream and waits for its answer, instead of opening a call each time.
// The stream is opened on first use, and again after it ended (its member
// went away, its deadline passed) or when the caller moves to another
// member; a renewal whose answer does not come in time, or is cancelled,
// closes the stream, so a late answer is never taken for the next one's.
//
// Errors come back as the call's Status, as for the unary calls
// (etcd_api.hpp): a stream that ended is the transport's or the server's
// status; a renewal unanswered in time is DEADLINE_EXCEEDED (not from the
// server).
// Thread safety: one caller at a time (the elector's run thread); the
// Cancellation may be triggered from any thread.
#pragma once

#include <rebound/client.hpp>
#include <rebound/grpc/channel.hpp>

#include "rebound_etcd/rpc.pb.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace rebound::lease::detail {

class KeepAliveStream {
 public:
  explicit KeepAliveStream(Client& client) : client_(client) {}
  ~KeepAliveStream() { close(); }
  KeepAliveStream(const KeepAliveStream&) = delete;
  KeepAliveStream& operator=(const KeepAliveStream&) = delete;

  /// One renewal of `lease` on the stream to `endpoint`: the Status, and
  /// the answer when it is ok.
  grpc::Status keep_alive(const std::string& endpoint, std::int64_t lease, std::chrono::milliseconds timeout,
                          const Cancellation& cancel, rebound_etcd::v3::LeaseKeepAliveResponse& reply);
  /// Streams opened so far (for tests: renewals share one).
  int streams_opened() const { return opened_; }
  /// Ends the stream (cancelled) if one is open.
  void close();

 private:
  struct Inbox;
  void open(const std::string& endpoint);

  Client& client_;
  std::string endpoint_;
  std::shared_ptr<Inbox> inbox_;
  std::optional<grpc::BidiCall> call_;
  int opened_ = 0;
};

}  // namespace rebound::lease::detail
