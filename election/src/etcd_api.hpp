// The etcd calls the elector's etcd lock makes - LeaseGrant, LeaseKeepAlive,
// LeaseRevoke, and one Txn that creates the key only if absent (else reads
// it) - as gRPC unary calls over rebound::grpc, on one endpoint at a time:
// a call that fails without the server's answer (a transport error,
// UNAVAILABLE, a deadline) moves the next call to the next endpoint.
//
// Why not rebound::EndpointGroup (round robin over healthy members): a
// lock client wants one member at a time. A blackholed member does not
// fail a call, it lets it run to its deadline, which the group cannot
// pin on a member (a deadline is no verdict on an endpoint); under round
// robin every third call would wait out its share of the renew round on
// it until the connection's health check gave up - and etcd's 5 s
// minimum PING interval makes that slower than a renew deadline. Sticking
// to the member that answers, and moving on when one does not, costs one
// call per failure.
//
// Method paths are etcd's service names, hard-coded; the messages are
// rebound::etcd_proto's (private package rebound_etcd.v3).
// LeaseKeepAlive is a bidirectional stream in etcd; it is called here with
// one message and END_STREAM: etcd answers each keepalive message and ends
// the stream when the client half-closes, so one renewal is one call.
//
// Thread safety: one caller at a time (the elector's run thread); a
// Cancellation passed in may be triggered from any thread.
#pragma once

#include <rebound/client.hpp>
#include <rebound/grpc/channel.hpp>

#include "etcd_key_watch.hpp"
#include "rebound_etcd/rpc.pb.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rebound::lease::detail {

/// A call's status and, when it is ok, the reply.
template <class Reply>
struct EtcdCall {
  grpc::Status status;
  Reply reply;
  std::string endpoint;  ///< the member that was asked
  bool ok() const { return status.ok(); }
};

/// The key as a Txn's failure branch read it (absent when not in the store).
struct EtcdKey {
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
  std::string value;
};

/// The create-if-absent Txn's answer: whether it created the key, and the
/// key as it was when it did not.
struct CreateOutcome {
  bool created = false;
  std::optional<EtcdKey> existing;
  std::int64_t revision = 0;  ///< the store's revision after the Txn
};

class EtcdApi {
 public:
  /// `endpoints`: client URLs of members ("https://10.0.0.1:2379"). The
  /// options should speak HTTP/2 (prior knowledge for http).
  EtcdApi(const Options& client_options, std::vector<std::string> endpoints);

  EtcdCall<rebound_etcd::v3::LeaseGrantResponse> grant(std::int64_t ttl_seconds, std::chrono::milliseconds timeout,
                                                       const Cancellation& cancel);
  EtcdCall<rebound_etcd::v3::LeaseKeepAliveResponse> keep_alive(std::int64_t lease, std::chrono::milliseconds timeout,
                                                                const Cancellation& cancel);
  EtcdCall<rebound_etcd::v3::LeaseRevokeResponse> revoke(std::int64_t lease, std::chrono::milliseconds timeout,
                                                         const Cancellation& cancel);
  /// Txn: if the key's create_revision is 0 (absent), put `value` on
  /// `lease`; else read the key. Not resent by the transport once
  /// processed; resending it after a lost answer finds our own key (the
  /// caller compares its lease).
  EtcdCall<CreateOutcome> create_if_absent(const std::string& key, const std::string& value, std::int64_t lease,
                                           std::chrono::milliseconds timeout, const Cancellation& cancel);

  /// A Watch on `key` from `from_revision` at the member the next call goes
  /// to (etcd_key_watch.hpp); it never blocks and never fails: a watch
  /// that cannot be opened reports no change.
  std::unique_ptr<EtcdKeyWatch> watch(const std::string& key, std::int64_t from_revision,
                                      std::chrono::milliseconds timeout, std::function<void()> on_change);

  const std::string& endpoint() const { return endpoints_.at(current_); }
  void shutdown() { client_.shutdown(); }

 private:
  template <class Reply>
  EtcdCall<Reply> call(const char* method, const google::protobuf::MessageLite& request,
                       std::chrono::milliseconds timeout, const Cancellation& cancel);

  Client client_;
  std::vector<std::string> endpoints_;
  std::size_t current_ = 0;
};

/// Whether a failed call says nothing about the lock, so the next call
/// should go to another member: no answer from the server (transport
/// error, deadline), or UNAVAILABLE (no leader, member stopping).
bool try_another_member(const grpc::Status& s);

}  // namespace rebound::lease::detail
