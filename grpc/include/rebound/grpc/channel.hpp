// gRPC calls over rebound's HTTP/2 pool: a Channel turns a method path and
// request bytes into a POST with gRPC's headers and framing, and the
// response into messages and a Status. It carries bytes only: callers
// serialize their messages (the etcd lock backend uses protobuf's lite
// runtime) and hard-code method paths ("/etcdserverpb.KV/Range").
//
//     rebound::Options o; o.http_version = rebound::HttpVersion::http2_prior_knowledge;
//     rebound::Client client(o);
//     rebound::grpc::Channel channel(client, "http://127.0.0.1:2379");
//     auto r = channel.unary("/etcdserverpb.KV/Range", request.SerializeAsString(), {.timeout = 2s});
//     if (r.status.ok()) reply.ParseFromString(r.message);
//
// Calls and what is resent: unary and server-streaming calls send their
// one message with END_STREAM; a bidirectional call (bidi_streaming, see
// bidi_call.hpp) keeps its request body open for messages written while
// answers arrive, on a rebound::BodyWriter (HTTP/2 only).
// The transport retries an attempt the server provably never processed
// (refused stream, above a GOAWAY, never sent), as for any POST; a call
// the server may have processed is never resent by rebound, and a
// grpc-status the server sent is returned as the call's Status, whatever
// its code - retrying it is the caller's decision.
//
// Deadline: CallOptions::timeout is the request's timeout and is sent as
// grpc-timeout, so the server gives up when the caller does.
// Cancellation: CallOptions::cancellation cancels the call (HTTP/2
// RST_STREAM CANCEL); the Status is then CANCELLED, not from the server.
//
// Thread safety: a Channel may be used by any number of threads at once
// (the Client is thread-safe). Blocking calls must not be made from a
// rebound I/O thread (a Client callback or an on_message), as with
// Client::send. The Client must outlive the Channel.
#pragma once

#include <rebound/client.hpp>
#include <rebound/endpoint_group.hpp>
#include <rebound/grpc/bidi_call.hpp>
#include <rebound/grpc/status.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rebound::grpc {

struct CallOptions {
  /// The call's deadline (sent as grpc-timeout). Unset: the Client's
  /// request_timeout, and no grpc-timeout.
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<Cancellation> cancellation;
  /// Extra request metadata (lowercase names; "-bin" values already base64).
  Headers metadata;
  /// Largest response message accepted (gRPC's default 4 MiB).
  std::size_t max_message_size = 4u << 20;
  /// Bidirectional calls: request bytes that may wait unsent before
  /// write() blocks, and the replay copy kept for a resend (BodyWriter's
  /// limit).
  std::size_t write_buffer = 256u << 10;
};

/// A unary call's outcome: the status, and the response message when ok.
struct UnaryResult {
  Status status;
  std::string message;  ///< the one response message (empty unless status.ok())
  Headers headers;      ///< response headers (initial metadata), when any arrived
  Headers trailers;     ///< trailing metadata
  /// The endpoint that answered, when the Channel is over an EndpointGroup
  /// (empty otherwise, or when no endpoint answered).
  std::string endpoint;
};

/// The request a call sends: POST <base_url><method>, content-type
/// application/grpc, te: trailers, grpc-timeout from options.timeout, the
/// framed message. Exposed for tests and for callers that send it
/// themselves.
Request make_request(const std::string& base_url, std::string_view method, std::string_view message,
                     const CallOptions& options);

/// make_request without a body: the head of a call whose messages are
/// written as it runs (a bidirectional call sets a BodyWriter on it).
Request make_request_head(const std::string& base_url, std::string_view method, const CallOptions& options);

/// grpc-timeout's value for a timeout: at most 8 digits and a unit, rounded
/// up ("250m", "12345678m", "100000S"...).
std::string encode_timeout(std::chrono::milliseconds t);

class Channel {
 public:
  /// `base_url`: "http://host:port" or "https://host:port" (a trailing '/'
  /// is ignored). The Client should speak HTTP/2 to it
  /// (HttpVersion::http2_prior_knowledge for http, ALPN for https).
  Channel(Client& client, std::string base_url);
  /// Calls on the members of `group` (etcd's client URLs, say): each call
  /// goes to a healthy member in turn, and one never sent (or refused
  /// unprocessed) moves to another member at once; see endpoint_group.hpp.
  /// A bidirectional call is one stream on one member. The group must
  /// outlive the Channel. base_url() is then empty.
  explicit Channel(EndpointGroup& group);

  const std::string& base_url() const noexcept { return base_url_; }

  /// Blocking unary call: one request message, one response message.
  UnaryResult unary(std::string_view method, std::string_view request_message, const CallOptions& options = {});

  /// Blocking server-streaming call: each response message goes to
  /// `on_message` as it arrives (on a rebound I/O thread: keep it quick, do
  /// not block), in order; returning false from it cancels the call (the
  /// Status is then CANCELLED). Returns the call's final Status.
  Status server_streaming(std::string_view method, std::string_view request_message,
                          std::function<bool(std::string_view message)> on_message,
                          const CallOptions& options = {});

  /// Starts a bidirectional-streaming call and returns at once: write
  /// request messages to the returned BidiCall while each response message
  /// goes to `on_message` (on a rebound I/O thread, in order; returning
  /// false cancels the call). `on_done`, if given, runs once with the final
  /// Status when the call ends (on a rebound I/O thread), before wait()
  /// returns it. See bidi_call.hpp.
  BidiCall bidi_streaming(std::string_view method, std::function<bool(std::string_view message)> on_message,
                          const CallOptions& options = {}, std::function<void(const Status&)> on_done = {});

 private:
  Result<Response> send(Request request, std::string* endpoint = nullptr);
  void send_async(Request request, std::function<void(Result<Response>)> done);

  Client& client_;
  std::string base_url_;
  EndpointGroup* group_ = nullptr;
};

}  // namespace rebound::grpc
