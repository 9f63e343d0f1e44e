// Small etcd calls for tests, over rebound::grpc with etcd's messages from
// rebound::etcd_proto: what a test needs to look at or prepare the store.
#pragma once

#include <rebound/client.hpp>
#include <rebound/grpc/channel.hpp>

#include "rebound_etcd/rpc.pb.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace rebound::testing {

/// Calls `method` on `url` with `request`; the reply when the status is ok.
template <class Reply>
std::optional<Reply> etcd_call(rebound::Client& client, const std::string& url, const char* method,
                               const google::protobuf::MessageLite& request, std::chrono::milliseconds timeout,
                               rebound::grpc::Status* status_out = nullptr) {
  rebound::grpc::Channel channel(client, url);
  rebound::grpc::CallOptions o;
  o.timeout = timeout;
  auto r = channel.unary(method, request.SerializeAsString(), o);
  if (status_out) *status_out = r.status;
  Reply reply;
  if (!r.status.ok() || !reply.ParseFromString(r.message)) return std::nullopt;
  return reply;
}

/// How many keys equal `key` (0 or 1) by a linearizable Range; nullopt on failure.
inline std::optional<std::int64_t> range_count(rebound::Client& client, const std::string& url, const std::string& key,
                                               std::chrono::milliseconds timeout) {
  rebound_etcd::v3::RangeRequest request;
  request.set_key(key);
  auto reply = etcd_call<rebound_etcd::v3::RangeResponse>(client, url, "/etcdserverpb.KV/Range", request, timeout);
  if (!reply) return std::nullopt;
  return reply->count();
}

}  // namespace rebound::testing
