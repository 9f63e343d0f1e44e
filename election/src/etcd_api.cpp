// The elector's etcd calls: see etcd_api.hpp.
#include "etcd_api.hpp"

#include <stdexcept>

namespace rebound::lease::detail {

namespace v3 = rebound_etcd::v3;

EtcdApi::EtcdApi(const Options& client_options, std::vector<std::string> endpoints)
    : client_(client_options), endpoints_(std::move(endpoints)) {
  if (endpoints_.empty()) throw std::invalid_argument("EtcdApi: no endpoints");
}

bool try_another_member(const grpc::Status& s) {
  if (s.ok()) return false;
  if (!s.from_server) return s.code != grpc::StatusCode::cancelled && s.code != grpc::StatusCode::internal;
  return s.code == grpc::StatusCode::unavailable || s.code == grpc::StatusCode::deadline_exceeded;
}

template <class Reply>
EtcdCall<Reply> EtcdApi::call(const char* method, const google::protobuf::MessageLite& request,
                              std::chrono::milliseconds timeout, const Cancellation& cancel) {
  EtcdCall<Reply> out;
  out.endpoint = endpoints_[current_];
  grpc::Channel channel(client_, out.endpoint);
  grpc::CallOptions options;
  options.timeout = std::max(timeout, std::chrono::milliseconds(1));
  options.cancellation = cancel;
  auto r = channel.unary(method, request.SerializeAsString(), options);
  out.status = std::move(r.status);
  if (out.status.ok() && !out.reply.ParseFromString(r.message)) {
    out.status.code = grpc::StatusCode::internal;
    out.status.message = std::string("unreadable reply to ") + method;
  }
  if (try_another_member(out.status)) current_ = (current_ + 1) % endpoints_.size();
  return out;
}

EtcdCall<v3::LeaseGrantResponse> EtcdApi::grant(std::int64_t ttl_seconds, std::chrono::milliseconds timeout,
                                                const Cancellation& cancel) {
  v3::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  return call<v3::LeaseGrantResponse>("/etcdserverpb.Lease/LeaseGrant", request, timeout, cancel);
}

EtcdCall<v3::LeaseKeepAliveResponse> EtcdApi::keep_alive(std::int64_t lease, std::chrono::milliseconds timeout,
                                                         const Cancellation& cancel) {
  v3::LeaseKeepAliveRequest request;
  request.set_id(lease);
  return call<v3::LeaseKeepAliveResponse>("/etcdserverpb.Lease/LeaseKeepAlive", request, timeout, cancel);
}

EtcdCall<v3::LeaseRevokeResponse> EtcdApi::revoke(std::int64_t lease, std::chrono::milliseconds timeout,
                                                  const Cancellation& cancel) {
  v3::LeaseRevokeRequest request;
  request.set_id(lease);
  return call<v3::LeaseRevokeResponse>("/etcdserverpb.Lease/LeaseRevoke", request, timeout, cancel);
}

std::unique_ptr<EtcdKeyWatch> EtcdApi::watch(const std::string& key, std::int64_t from_revision,
                                             std::chrono::milliseconds timeout, std::function<void()> on_change) {
  return std::make_unique<EtcdKeyWatch>(grpc::Channel(client_, endpoints_[current_]), key, from_revision, timeout,
                                        std::move(on_change));
}

EtcdCall<CreateOutcome> EtcdApi::create_if_absent(const std::string& key, const std::string& value,
                                                  std::int64_t lease, std::chrono::milliseconds timeout,
                                                  const Cancellation& cancel) {
  v3::TxnRequest txn;
  auto* absent = txn.add_compare();
  absent->set_key(key);
  absent->set_target(v3::Compare::CREATE);
  absent->set_result(v3::Compare::EQUAL);
  absent->set_create_revision(0);
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  txn.add_failure()->mutable_request_range()->set_key(key);

  auto raw = call<v3::TxnResponse>("/etcdserverpb.KV/Txn", txn, timeout, cancel);
  EtcdCall<CreateOutcome> out;
  out.status = std::move(raw.status);
  out.endpoint = std::move(raw.endpoint);
  if (!out.ok()) return out;
  out.reply.created = raw.reply.succeeded();
  out.reply.revision = raw.reply.header().revision();
  if (!out.reply.created && raw.reply.responses_size() == 1 && raw.reply.responses(0).has_response_range()) {
    const auto& range = raw.reply.responses(0).response_range();
    // Atomic with the compare, so the key is there; checked all the same.
    if (range.kvs_size() > 0) {
      const auto& kv = range.kvs(0);
      out.reply.existing = EtcdKey{kv.create_revision(), kv.mod_revision(), kv.lease(), kv.value()};
    }
  }
  return out;
}

}  // namespace rebound::lease::detail
