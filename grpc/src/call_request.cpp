// The HTTP/2 request of a gRPC call: method path, gRPC's headers, the
// deadline as grpc-timeout, and the one framed message of a unary or
// server-streaming call. See channel.hpp.
#include "rebound/grpc/channel.hpp"
#include "rebound/grpc/framing.hpp"

namespace rebound::grpc {

std::string encode_timeout(std::chrono::milliseconds t) {
  // gRPC allows at most 8 digits: the finest unit that fits, rounded up so
  // the server never gives up before the caller does.
  const long long ms = std::max<long long>(0, t.count());
  if (ms < 100'000'000) return std::to_string(ms) + "m";
  const long long s = (ms + 999) / 1000;
  if (s < 100'000'000) return std::to_string(s) + "S";
  const long long min = (s + 59) / 60;
  if (min < 100'000'000) return std::to_string(min) + "M";
  return std::to_string(std::min<long long>((min + 59) / 60, 99'999'999)) + "H";
}

Request make_request_head(const std::string& base_url, std::string_view method, const CallOptions& options) {
  Request r("POST", base_url + std::string(method));
  r.header("content-type", "application/grpc");
  // Proxies must not drop the trailers: the status lives there.
  r.header("te", "trailers");
  if (options.timeout) {
    r.timeout(*options.timeout);
    r.header("grpc-timeout", encode_timeout(*options.timeout));
  }
  for (const auto& field : options.metadata) r.header(field.first, field.second);
  // An attempt the server never processed is resent; the POST is never
  // resent once the server may have processed it.
  r.retry_policy(RetryPolicy::automatic);
  return r;
}

Request make_request(const std::string& base_url, std::string_view method, std::string_view message,
                     const CallOptions& options) {
  Request r = make_request_head(base_url, method, options);
  // In memory, so an attempt the server never processed can be resent.
  r.body(encode_message(message));
  return r;
}

}  // namespace rebound::grpc
