// Worker: issuing, checking and re-issuing one client's requests.
#include <rebound/soak/worker.hpp>

#include <rebound/soak/checks.hpp>

#include <cstdio>
#include <future>
#include <thread>

namespace rebound::soak {

namespace {

std::string at(Clock::time_point t, Clock::time_point t0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(t - t0).count());
  return buf;
}

Options options_for(ClientMode mode, Options o) {
  switch (mode) {
    case ClientMode::h2_tls: o.http_version = HttpVersion::automatic; break;  // ALPN picks h2
    case ClientMode::h1_tls: o.http_version = HttpVersion::http1_only; break;
    case ClientMode::h2c: o.http_version = HttpVersion::http2_prior_knowledge; break;
    case ClientMode::h1_plain: o.http_version = HttpVersion::automatic; break;  // http:// speaks HTTP/1.1
  }
  return o;
}

}  // namespace

Worker::Worker(WorkerSetup setup, Shared shared)
    : setup_(std::move(setup)),
      shared_(shared),
      rng_(setup_.seed),
      trace_(
          shared.t0,
          [this](std::uint64_t id, progress failed_at, const std::string& line) { on_retry_event(id, failed_at, line); },
          [this](std::uint64_t id, const std::string& line) { on_overlapping_attempt(id, line); }) {
  Options o = options_for(setup_.mode, setup_.options);
  o.on_event = trace_.hook();
  client_ = std::make_unique<Client>(o);
}

Worker::~Worker() {
  // The client's callbacks touch this worker: stop them before it goes. A
  // request still running then is a hang the watchdog already reported.
  issuing_ = false;
  closing_ = true;
  if (client_) client_->shutdown();
  client_.reset();
}

void Worker::on_retry_event(std::uint64_t id, progress failed_at, const std::string& line) {
  const auto e = shared_.ledger.entry(id);
  if (!e) return;
  if (failed_at == progress::refused)
    if (auto flight = shared_.ledger.flight(id)) ++flight->seen->refused_retries;
  if (auto f = check_retry(e->kind, failed_at))
    shared_.monitor.report(*f, "request #" + std::to_string(id) + " (" + to_string(e->kind) + ")", [&] {
      auto flight = shared_.ledger.flight(id);
      return (flight ? context(*flight, "still running", false) : std::string()) + "the retry event: " + line + "\n";
    });
}

void Worker::on_overlapping_attempt(std::uint64_t id, const std::string& line) {
  const auto e = shared_.ledger.entry(id);
  const std::string kind = e ? std::string(" (") + to_string(e->kind) + ")" : "";
  shared_.monitor.report({"one_attempt_at_a_time", "an attempt started while the one before it had not ended"},
                         "request #" + std::to_string(id) + kind, [&] {
                           auto flight = shared_.ledger.flight(id);
                           return (flight ? context(*flight, "still running", false) : std::string()) +
                                  "the second start: " + line + "\n";
                         });
}

void Worker::start() {
  for (int i = 0; i < setup_.depth; ++i) launch();
}

void Worker::probe() {
  for (int i = 0; i < 2; ++i) {
    Spec s;
    s.id = shared_.ledger.next_id();
    s.kind = Kind::get_bytes;
    s.server = setup_.servers[i];
    s.size = 100;
    s.target = "/bytes/100?rid=" + std::to_string(s.id);
    s.timeout = std::chrono::seconds(10);
    launch(s, true);
  }
}

void Worker::launch(std::optional<Spec> fixed, bool probe) {
  if (!probe && (!issuing_ || shared_.monitor.stop_requested())) return;
  Spec spec;
  if (fixed) {
    spec = std::move(*fixed);
  } else {
    const auto id = shared_.ledger.next_id();
    std::lock_guard lock(rng_mutex_);
    spec = draw_spec(rng_, id, setup_.servers);
  }
  auto flight = std::make_shared<Flight>();
  flight->spec = spec;
  flight->seen = std::make_shared<Observed>();
  flight->client = setup_.index;
  Request request = build_request(spec, url_of(spec.server), flight->seen);
  flight->started = Clock::now();
  flight->deadline = flight->started + spec.timeout.value_or(setup_.options.request_timeout);
  shared_.ledger.start(flight);
  ++flying_;
  client_->send_async(std::move(request), [this, flight, probe](Result<Response> r) { on_done(flight, probe, std::move(r)); });
}

void Worker::on_done(const std::shared_ptr<Flight>& flight, bool probe, Result<Response> r) {
  const auto now = Clock::now();
  const Spec& spec = flight->spec;
  const int attempts = r ? r->attempts() : r.error().attempts();
  const progress reached = r ? progress::response_started : r.error().reached();
  const std::string outcome = r ? "ok" : error_kind(r.error().code());
  if (shared_.ledger.complete(spec.id, static_cast<bool>(r), attempts, reached) > 1) {
    shared_.monitor.report({"completed_once", "completed a second time, with " + outcome}, spec.describe());
    return;
  }
  if (closing_) return;
  shared_.tally.add(probe ? "probe" : to_string(spec.kind), outcome);
  const std::string message = r ? "HTTP " + std::to_string(r->status()) + ", " + std::to_string(r->body().size()) +
                                      " body bytes, attempts " + std::to_string(attempts)
                                : r.error().message();
  const CompletionFacts facts{spec,
                              *flight->seen,
                              setup_.mode,
                              std::chrono::duration_cast<std::chrono::milliseconds>(now - flight->started),
                              spec.timeout.value_or(setup_.options.request_timeout),
                              shared_.grace,
                              setup_.options.max_attempts};
  auto finding = check_completion(facts, r);
  if (!finding && probe && !r)
    finding = Finding{"recovers_after_faults", "a GET after every fault was repaired failed: " + message};
  if (finding) shared_.monitor.report(*finding, spec.describe(), [&] { return context(*flight, message, false); });
  --flying_;
  if (!probe) launch();
}

std::string Worker::context(const Flight& flight, const std::string& outcome, bool with_pools) {
  const auto now = Clock::now();
  std::string c = "client #" + std::to_string(setup_.index) + " (" + to_string(setup_.mode) + "), started at " +
                  at(flight.started, shared_.t0) + ", now " + at(now, shared_.t0) + "\n";
  c += "outcome: " + outcome + "\n";
  if (flight.seen->upload) c += "body source read " + std::to_string(flight.seen->source_offset.load()) + " bytes\n";
  if (streams_download(flight.spec.kind)) c += "body sink got " + std::to_string(flight.seen->sink_bytes.load()) + " bytes\n";
  c += "faults from 3 s before it started:\n";
  for (const auto& line : shared_.injector.between(flight.started - std::chrono::seconds(3), now)) c += "  " + line + "\n";
  c += events_about(flight.spec.id);
  c += "the client's last events:\n";
  for (const auto& line : trace_.recent(12)) c += "  " + line + "\n";
  if (with_pools) c += "pools:\n" + pools();
  return c;
}

std::string Worker::recent_context() {
  const auto now = Clock::now();
  std::string c = "client #" + std::to_string(setup_.index) + " (" + to_string(setup_.mode) + "), now " +
                  at(now, shared_.t0) + "\nfaults in the last 3 s:\n";
  for (const auto& line : shared_.injector.between(now - std::chrono::seconds(3), now)) c += "  " + line + "\n";
  c += "the client's last events:\n";
  for (const auto& line : trace_.recent(12)) c += "  " + line + "\n";
  return c + "pools:\n" + pools();
}

std::string Worker::pools() {
  // dump_pools() waits for the client's I/O thread, which may be the very
  // thing that is stuck: ask from a thread of its own and wait a while.
  auto answer = std::make_shared<std::promise<std::string>>();
  auto dumped = answer->get_future();
  std::thread([answer, client = client_.get()] { answer->set_value(client->dump_pools()); }).detach();
  if (dumped.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
    return "(no answer from the client's I/O thread within 2 s: is it stuck?)\n";
  return dumped.get();
}

std::string Worker::events_about(std::uint64_t id) const {
  std::string c = "the client's events naming it:\n";
  for (const auto& line : trace_.about(id)) c += "  " + line + "\n";
  return c;
}

}  // namespace rebound::soak
