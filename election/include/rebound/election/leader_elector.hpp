// Leader election over a coordination.k8s.io/v1 Lease, with client-go's
// semantics, on rebound::Client: a kube-apiserver or rebound's embedded
// Lease API (install_lease_api) holds the lock.
//
//     rebound::lease::LeaderElectionConfig cfg;
//     cfg.base_url = "https://127.0.0.1:6443";
//     cfg.namespace_ = "default"; cfg.name = "my-controller"; cfg.identity = hostname;
//     cfg.on_started_leading = [&] { worker.start(); };
//     cfg.on_stopped_leading = [&] { worker.stop(); };   // must stop the work before returning
//     rebound::lease::LeaderElector elector(cfg);
//     elector.start();          // or run() on a thread of yours
//     ...
//     // In the work, before each action that needs leadership (fencing):
//     if (!elector.is_leader()) return;   // false from valid_until() on, whatever else happens
//     ...
//     elector.stop();           // releases the lease if leading (release_on_cancel)
//
// The algorithm (client-go's tryAcquireOrRenew):
//   * Every attempt GETs the lease. 404: create it with POST, holding it.
//   * The candidate remembers the record it saw and *when it first saw it*,
//     by its own steady clock. A holder's lease has expired once that record
//     has not changed for the record's leaseDurationSeconds - the remote
//     renewTime is never compared with the local clock, so clock skew
//     between machines cannot cause two leaders.
//   * A held, unexpired lease is left alone. Otherwise (ours, free, or
//     expired) the candidate PUTs it carrying the resourceVersion it read:
//     if anyone wrote in between, the server answers 409 and the attempt
//     fails. Taking over sets acquireTime and adds one to leaseTransitions;
//     renewing keeps both and moves renewTime.
//   * A record naming our identity is ours only if this process wrote it
//     (its resourceVersion, or the spec we sent): two processes given the
//     same identity must not both lead. Identities also get a random
//     per-process suffix by default (unique_identity).
//   * Candidates attempt every retry_period (+ up to jitter_factor of it,
//     random, so racing candidates spread out). Once leading, the leader
//     renews every retry_period; if no renewal succeeds within renew_deadline
//     of a round's start, or a read shows another holder, it stops leading.
//   * Leadership is a time bound, not a flag: a successful write *sent* at
//     t makes this candidate leader until valid_until = t + lease_duration -
//     safety_margin (the server applied the write no earlier than t, and
//     others wait at least lease_duration from when they saw it). The round
//     deadline is capped by it, is_leader() is false from it on, a timer
//     that fires late (a paused process) checks it before anything else,
//     and an answer that arrives after it (a renewal sent before a pause,
//     answered after) is not a renewal: leadership ends, nothing more is
//     written. The margin is the leader's time to stop its work before
//     anyone may take over.
//   * A leader renews with one PUT of the record its last write returned
//     (client-go's fast path; a 409 falls back to a read). An attempt may
//     use the rest of its round (a candidate's: a renew deadline), so a
//     slow API server still works. A connection that went silent is found
//     by the client's health checks, which the elector caps below the renew
//     deadline (election_client_options): PING, drop, and the request moves
//     to a fresh connection within the round.
//   * A lease that vanished (deleted, or a memory-only server restarted)
//     while another held it is still held, by our clock, until it would
//     have expired; only its holder recreates it at once.
//   * On stop() while leading, on_stopped_leading runs, then (with
//     release_on_cancel) the lease is released: holderIdentity "" and
//     leaseDurationSeconds 1, so another candidate can take it at once.
//     When on_stopped_leading has not returned within the safety margin,
//     the release is skipped: the lease expires instead.
// As in client-go, lease_duration > renew_deadline > jitter_factor *
// retry_period is required (the constructor throws otherwise). leaseDurationSeconds is whole seconds in the API: the
// lease_duration is rounded *up* when written (1.5 s -> 2), never down,
// because other candidates wait what the record says.
//
// Threading: run() blocks the calling thread and does the election there:
// requests (on the internal rebound::Client) and waits. start() runs run()
// on a thread the elector owns. To use an executor of yours, post
// [&] { elector.run(); } to it - it occupies one of its threads until
// stopped. on_started_leading runs on a thread of its own for each term
// (see StartedLeading); on_stopped_leading, on_new_leader and on_event run
// on one callback thread the elector owns, in order, so a callback that
// blocks never stops renewals. Callbacks must not throw. stop() may be
// called from any thread, callbacks included; it wakes waits and cancels
// the request in flight, and (unless called from the run thread or the
// callback thread, or when run() was called directly) waits for run() to
// finish, release included. run(), stop() and the destructor wait for the
// callbacks they caused for at most the safety margin each: a callback
// still running then goes on, detached, with copies of the callables (the
// elector's state is not touched), and what was still queued is dropped.
#pragma once

#include <rebound/error.hpp>
#include <rebound/options.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace rebound::kube {
struct RestConfig;
}

namespace rebound::lease {

/// on_started_leading: a `void()` callable, or a `void(std::stop_token)`
/// one whose token is requested when the leadership ends (client-go's
/// context) - the form for running the work inside the callback until then.
class StartedLeading {
 public:
  StartedLeading() = default;
  template <class F>
    requires std::invocable<F&, std::stop_token>
  StartedLeading(F f) : f_(std::move(f)) {}
  template <class F>
    requires(std::invocable<F&> && !std::invocable<F&, std::stop_token>)
  StartedLeading(F f) {
    if constexpr (std::constructible_from<bool, const F&>)
      if (!static_cast<bool>(f)) return;  // an empty std::function stays empty
    f_ = [g = std::move(f)](std::stop_token) mutable { g(); };
  }
  explicit operator bool() const noexcept { return static_cast<bool>(f_); }
  void operator()(std::stop_token token) const { f_(std::move(token)); }

 private:
  std::function<void(std::stop_token)> f_;
};

/// What one step of the election did, for logs and timelines.
enum class ElectionEventKind : std::uint8_t {
  acquired,        ///< became leader: created the lease, or took over a free, expired or own one
  renewed,         ///< renewed while leading
  held_by_other,   ///< an attempt found `holder` holding an unexpired lease (not an error)
  conflict,        ///< 409: another candidate created or changed the lease between our read and write
  failed,          ///< the attempt failed: `error_kind` is rebound::error_kind() of a transport
                   ///< error, "http_<status>" of an unexpected answer, or "bad_response"
  new_leader,      ///< a different holder was observed (`holder`; ours included)
  lost,            ///< stopped leading: renew deadline passed or another holder seen (`message`)
  released,        ///< stopped while leading and released the lease
  release_failed,  ///< the release did not succeed; other candidates wait for expiry instead
  stopped,         ///< run() is returning
};
/// "acquired", "renewed", ...
const char* to_string(ElectionEventKind k) noexcept;

struct ElectionEvent {
  ElectionEventKind kind{};
  std::chrono::steady_clock::time_point time;     ///< when it happened (for intervals)
  std::chrono::system_clock::time_point wall_time;  ///< the same instant, wall clock (for display)
  std::string identity;          ///< this candidate
  std::string holder;            ///< holder as last observed ("" when free or unknown)
  std::string resource_version;  ///< of the lease as last read or written
  int http_status = 0;           ///< status of the request that decided the outcome (0: none)
  std::string error_kind;        ///< failed, conflict, lost, release_failed: a short stable name
  std::string message;           ///< human-readable detail
  std::chrono::milliseconds took{0};  ///< duration of the attempt
  /// acquired, renewed: leadership lasts until then (steady clock); see
  /// LeaderElector::valid_until().
  std::chrono::steady_clock::time_point valid_until{};
};
/// One line: "<wall time> <identity> <kind> holder=... rv=... <error_kind>: <message> (N ms)".
std::string to_string(const ElectionEvent& e);

struct LeaderElectionConfig {
  /// "https://host:port" of the API server (a trailing '/' is ignored).
  /// Unused with etcd_endpoints.
  std::string base_url;
  /// Hold the lock on etcd instead of a Lease: the client URLs of etcd
  /// members ("https://10.0.0.1:2379", at least one). `name` is then the
  /// key; base_url and namespace_ are unused; client_options.tls carries
  /// the CA and client certificate. The backend: an etcd lease of
  /// lease_duration (rounded up to seconds; etcd may grant more, and the
  /// granted TTL is used), the key created only if absent (a Txn comparing
  /// create_revision == 0) on that lease with our identity as its value,
  /// renewed by LeaseKeepAlive, released by LeaseRevoke. Each attempt
  /// sends a keepalive, then the create-if-absent Txn, which reads the key
  /// when it exists: the key is ours when it is on our lease (so a resent
  /// acquire finds itself), another's otherwise. valid_until is the send
  /// time of the last successful grant or keepalive + the granted TTL -
  /// safety margin. Between attempts the elector watches the key (etcd's
  /// Watch, from the revision after its last read): a candidate tries at
  /// once when the key is released, expires or changes hands, instead of a
  /// retry period later; a leader whose key is deleted or overwritten by
  /// someone else stops leading at once (a `lost` event, error_kind
  /// "key_changed") instead of at its next round. A watch that fails
  /// changes nothing: the retry period still paces the attempts. A failure
  /// without an answer moves to the next endpoint.
  std::vector<std::string> etcd_endpoints;
  std::string namespace_ = "default";
  std::string name;      ///< the Lease's name
  std::string identity;  ///< this candidate's identity (e.g. the pod name)
  /// Append "_" and 8 random hex digits to `identity`, new for each
  /// LeaderElector (LeaderElector::identity() has the result), so two
  /// processes given the same identity never share it. Turn off only when
  /// the identity is unique by construction; even then, a record naming our
  /// identity that this process did not write is treated as another's.
  bool unique_identity = true;

  std::chrono::milliseconds lease_duration = std::chrono::seconds(15);
  std::chrono::milliseconds renew_deadline = std::chrono::seconds(10);
  std::chrono::milliseconds retry_period = std::chrono::seconds(2);
  /// Candidates wait retry_period * (1 + U[0, jitter_factor)) between attempts.
  double jitter_factor = 1.2;
  /// How long before the lease could expire for others leadership ends
  /// (valid_until = last successful write's send time + lease_duration -
  /// safety_margin): the time on_stopped_leading has to stop the work.
  /// Unset: lease_duration - renew_deadline. 0 <= margin < lease_duration.
  std::optional<std::chrono::milliseconds> safety_margin;

  /// Release the lease when stopped while leading. Only safe when
  /// on_stopped_leading stops the leader's work before it returns.
  bool release_on_cancel = true;
  /// After losing leadership, go back to being a candidate instead of
  /// returning from run() (client-go returns, and most programs then exit).
  bool rejoin_after_loss = false;

  /// Called when leadership starts, on a thread of its own for each term,
  /// so it may run the work until its stop token is requested (when the
  /// leadership ends) - or return at once, having started it.
  StartedLeading on_started_leading;
  /// Called when leadership ends (lost, expired, or stop() while leading),
  /// before the lease is released, on the callback thread: after the term's
  /// on_started_leading has returned, or, when it has not within half the
  /// safety margin (its token is requested first), while it still runs. Not
  /// called if this candidate never led.
  std::function<void()> on_stopped_leading;
  /// Called with each newly observed holder (our own identity included).
  std::function<void(const std::string& identity)> on_new_leader;
  /// Called for every ElectionEvent.
  std::function<void(const ElectionEvent&)> on_event;

  /// For the internal rebound::Client: TLS CA (tls.ca_file), timeouts, HTTP version...
  rebound::Options client_options;
  /// Sent as "Authorization: Bearer <token>" when set.
  std::string bearer_token;
  /// Read the token from this file instead (re-read every minute, for
  /// rotating service-account tokens). Wins over bearer_token.
  std::string bearer_token_file;

  /// The standard in-cluster setup (rebound::kube::in_cluster_config):
  /// base_url from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT,
  /// the token from <dir>/token (re-read every minute; both as
  /// bearer_token_file and as client_options.credentials),
  /// client_options.tls.ca_file = <dir>/ca.crt, namespace_ from
  /// POD_NAMESPACE or <dir>/namespace (else "default"). Throws
  /// rebound::kube::InClusterError (a std::runtime_error) when not in a
  /// cluster (variables unset, or token or CA missing).
  static LeaderElectionConfig in_cluster(
      std::string name, std::string identity,
      const std::string& service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

  /// A config for the server of a kubeconfig context or of in-cluster
  /// configuration (rebound::kube::load_kubeconfig, default_config...):
  /// base_url = server, namespace_ = its namespace, client_options.tls and
  /// client_options.credentials from it (RestConfig::apply_to); the other
  /// fields keep their defaults.
  static LeaderElectionConfig from(const rebound::kube::RestConfig& rest, std::string name, std::string identity);

  /// "" when usable, else what is wrong.
  std::string validate() const;
};

class LeaderElector {
 public:
  /// Throws std::invalid_argument when config.validate() fails, and
  /// rebound::Exception when the client options are unusable.
  explicit LeaderElector(LeaderElectionConfig config);
  /// stop()s and waits for run() when it runs on the elector's own thread.
  /// Do not destroy the elector while run() runs on a thread of yours.
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  /// Runs the election on the calling thread until stop() - or until
  /// leadership is lost, unless rejoin_after_loss. Call at most once.
  void run();
  /// run() on a thread the elector owns. Call at most once, instead of run().
  void start();
  /// Ends the election (see the threading notes above). Idempotent.
  void stop();

  /// True while this candidate leads and its leadership is still valid by
  /// its own steady clock (now < valid_until()): false from the moment the
  /// lease might be taken over by others less the safety margin, even if the
  /// process was paused and the election has not noticed yet. Check it
  /// before each action that needs leadership. Becomes true just before
  /// on_started_leading is called (on the callback thread).
  bool is_leader() const noexcept;
  /// Until when the current leadership is valid (steady clock): the last
  /// successful write's send time + lease_duration - safety margin. A
  /// default time_point when not leading.
  std::chrono::steady_clock::time_point valid_until() const noexcept;
  /// This candidate's identity as written to the lease (with the unique
  /// suffix unless unique_identity is off).
  const std::string& identity() const noexcept;
  /// The holder last observed ("" when free or not yet read).
  std::string leader() const;
  const LeaderElectionConfig& config() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebound::lease
