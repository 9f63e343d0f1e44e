// rebound::EndpointGroup: several endpoints of one service (etcd members; an
// HA API server behind several addresses) behind one send(). Each endpoint
// is an origin with its own pool in the Client; the group picks one per
// attempt and moves requests off endpoints that stopped answering.
//
//     rebound::Client client(options);
//     rebound::EndpointGroup group(client, {"http://10.0.0.1:2379", "http://10.0.0.2:2379"});
//     auto r = group.send(rebound::Request::get("/health"));   // a path: any endpoint
//     if (r) std::cout << r->endpoint << " answered " << r->response.status() << "\n";
//
// Policy. Healthy endpoints take requests in turn (round robin, as etcd's
// clientv3 since 3.4 and gRPC's round_robin balancer): every member shares
// the load, a dead one is noticed by the next request that would go to it
// rather than after the one in use dies, and nothing has to know which
// member is "best". Each endpoint's health is a state:
//   healthy  -> skipped  when an attempt on it fails to dial, meets a
//                        failed health check or a lost connection, or the
//                        server refuses it (GOAWAY, REFUSED_STREAM); also on
//                        a GOAWAY or dial failure seen through observe(), or
//                        report_unhealthy(). It is skipped until a backoff
//                        (jittered, exponential per failure in a row:
//                        EndpointGroupOptions::backoff_base..backoff_max).
//   skipped  -> probing  when its backoff ended and a request is sent to it
//                        (the next request goes there first: a real request
//                        is the probe, one at a time).
//   probing  -> healthy  when it answered (any HTTP response);
//            -> skipped  when the probe failed (the backoff grows).
// When every endpoint is skipped, a request tries the one whose backoff ends
// first instead of failing at once (a forced probe).
//
// Which attempts move: an attempt that was never sent (a dial failure, a
// connection closed before the request was written) or that the server
// refused unprocessed moves to another endpoint at once, whatever the method
// (unless its RetryPolicy is `never`); once every endpoint was tried, the
// next round waits a retry backoff growing per round (such attempts are
// bounded by the deadline and the retry budget, as the pool's redials of a
// refused dial, not by max_attempts). An attempt the
// server may have processed follows the retry table (DESIGN.md; Options'
// max_attempts here is EndpointGroupOptions::max_attempts): an idempotent
// request goes to another endpoint, a POST without an Idempotency-Key is
// never resent. A 429/503 with Retry-After is resent (to the next endpoint)
// after the server's delay under the same rule. All within the request's
// deadline (Request::timeout, else EndpointGroupOptions::request_timeout)
// and a retry budget. Each attempt is one request to one endpoint's pool,
// sent there with RetryPolicy::never: the group, not the pool, decides the
// rest, so a dead endpoint costs one failed dial, not the pool's redials.
// A request with a streamed body (Request::body_source, body_writer) cannot
// be sent twice by the group: it goes to one endpoint, with its own
// RetryPolicy there (the pool resends what the server provably did not
// process), and its outcome feeds that endpoint's health.
//
// URLs: a request's URL is a path ("/v3/kv/range?x=1", appended to the
// endpoint's base URL), or an absolute URL under one of the endpoints (its
// base is replaced by the chosen endpoint's). Other URLs fail with
// errc::invalid_url.
//
// Errors: as Client::send, with the endpoints tried in Error::where(); the
// constructor throws rebound::Exception (errc::invalid_url) for an empty
// list or a base URL that does not parse.
// Thread safety: every member may be called from any thread. Results and
// EndpointGroupOptions::on_event run on the Client's I/O threads (or its
// executor), never under the group's lock; they may send. The blocking
// send() must not be called from such a callback. The Client must outlive
// the group; requests still running when the group is destroyed complete
// normally (they keep the group's state alive).
#pragma once

#include <rebound/client.hpp>
#include <rebound/events.hpp>
#include <rebound/export.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rebound {

namespace endpoints {
struct Trip;
}

/// An endpoint's health (see the policy above).
enum class EndpointState : std::uint8_t {
  healthy,  ///< takes requests in turn
  skipped,  ///< failed; takes none until its backoff ends (or every endpoint is skipped)
  probing,  ///< one request is on it to see whether it answers again
};
REBOUND_API const char* to_string(EndpointState s) noexcept;

/// What the group did, for EndpointGroupOptions::on_event.
struct EndpointEvent {
  enum class Kind : std::uint8_t {
    state_changed,  ///< `from` -> `to`; `error`/`detail` say why
    moved,          ///< an attempt on `endpoint` failed and the request goes on elsewhere (`detail`)
    served,         ///< `endpoint` answered the request (`detail`: method, target, status)
  };
  Kind kind{};
  std::chrono::steady_clock::time_point time;
  std::string endpoint;  ///< its base URL, as given
  std::size_t index = 0; ///< its position in the list
  EndpointState from = EndpointState::healthy;
  EndpointState to = EndpointState::healthy;
  error_code error;
  std::string detail;
};
REBOUND_API const char* to_string(EndpointEvent::Kind k) noexcept;

struct EndpointGroupOptions {
  /// An endpoint that failed is skipped for backoff(failures in a row):
  /// exponential from base, capped at max, jittered to [d/2, d].
  std::chrono::milliseconds backoff_base = std::chrono::milliseconds(200);
  std::chrono::milliseconds backoff_max = std::chrono::seconds(10);
  /// Attempts per request as the retry table counts them (moves of an
  /// unsent attempt to an endpoint not yet tried are free).
  int max_attempts = 4;
  /// Rest between rounds (every endpoint tried) and before resending an
  /// ambiguous failure, as the retry module's backoff.
  std::chrono::milliseconds retry_backoff_base = std::chrono::milliseconds(50);
  std::chrono::milliseconds retry_backoff_max = std::chrono::seconds(2);
  /// Default deadline for a request without Request::timeout.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(60);
  /// Resends as a fraction of requests, plus a floor per second.
  double retry_budget_ratio = 0.2;
  std::uint32_t retry_budget_min_per_second = 10;
  /// Called for every EndpointEvent (see the thread-safety note above).
  std::function<void(const EndpointEvent&)> on_event;
};

/// A response and the endpoint that served it.
struct Served {
  Response response;
  std::string endpoint;     ///< base URL of the endpoint that answered
  std::size_t index = 0;    ///< its position in the list
  int endpoints_tried = 1;  ///< attempts made, this one included
};

/// One endpoint as the group sees it now.
struct EndpointStatus {
  std::string endpoint;
  EndpointState state = EndpointState::healthy;
  int failures = 0;                          ///< failures in a row
  std::chrono::milliseconds skipped_for{0};  ///< backoff left (skipped only)
  std::uint64_t served = 0;                  ///< requests it answered
};

class REBOUND_API EndpointGroup {
 public:
  /// `endpoints`: base URLs ("https://10.0.0.1:6443", maybe with a path
  /// prefix); a trailing '/' is ignored. Throws rebound::Exception
  /// (invalid_url) when the list is empty or one does not parse.
  EndpointGroup(Client& client, std::vector<std::string> endpoints, EndpointGroupOptions options = {});
  ~EndpointGroup();
  EndpointGroup(const EndpointGroup&) = delete;
  EndpointGroup& operator=(const EndpointGroup&) = delete;

  /// Blocking: sends and waits (not from a Client callback).
  Result<Served> send(Request request);
  /// Callback: `done` runs exactly once, on an I/O thread of the Client.
  void send_async(Request request, std::function<void(Result<Served>)> done);
  /// Asio-style, any completion token; completes with Result<Served>.
  /// Cancel with Request::cancellation.
  template <class CompletionToken>
  auto async_send(Request request, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(Result<Served>)>(
        [this](auto handler, Request request) {
          start(std::move(request),
                boost::asio::any_completion_handler<void(Result<Served>)>(std::move(handler)));
        },
        token, std::move(request));
  }

  /// Feed the Client's events here (from Options::on_event) so that a
  /// GOAWAY or a failed dial on an endpoint's origin skips it even when no
  /// request of the group failed. Events of other origins are ignored.
  void observe(const Event& event);
  /// The caller's own health verdict (an application-level failure, say a
  /// gRPC UNAVAILABLE): skips the endpoint as a failed attempt would.
  /// Unknown endpoints are ignored.
  void report_unhealthy(std::string_view endpoint, std::string_view why);

  const std::vector<std::string>& endpoints() const noexcept;
  std::vector<EndpointStatus> status() const;
  Client& client() noexcept;

 private:
  void start(Request request, boost::asio::any_completion_handler<void(Result<Served>)> handler);
  void launch(Request request, std::function<void(Result<Served>)> done);
  friend struct endpoints::Trip;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// "a,b , c" -> {"a", "b", "c"}: a comma-separated list of URLs, as the
/// command line takes them (empty items dropped).
REBOUND_API std::vector<std::string> split_endpoint_list(std::string_view list);

}  // namespace rebound
