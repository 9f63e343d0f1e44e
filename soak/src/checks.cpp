// The invariants, one guard per clause; see checks.hpp.
#include <rebound/soak/checks.hpp>

namespace rebound::soak {

namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

std::optional<Finding> finding(const char* invariant, std::string detail) {
  return Finding{invariant, std::move(detail)};
}

// The faults the soak injects can end a request only in these ways. A
// dial error, a lost or silent connection, a reset or refused stream, a
// deadline: yes. A bad URL, a certificate that does not verify (every
// server has the one certificate the clients trust), a protocol violation
// by our own honest server, a full queue, a cancel nobody asked for: no.
bool expected_kind(const error_code& ec) {
  if (ec.category() != error_category()) return is_connection_failure(ec) || is_timeout(ec);
  switch (static_cast<errc>(ec.value())) {
    case errc::connection_refused:
    case errc::connect_timeout:
    case errc::tls_handshake_failed:
    case errc::protocol_negotiation_failed:
    case errc::connection_closed:
    case errc::connection_lost_after_send:
    case errc::truncated_response:
    case errc::health_check_failed:
    case errc::deadline_exceeded:
    case errc::response_header_timeout:
    case errc::refused_by_server:
    case errc::stream_reset:
    case errc::retries_exhausted: return true;
    case errc::invalid_url:
    case errc::unsupported_scheme:
    case errc::invalid_request:
    case errc::resolve_failed:
    case errc::certificate_verify_failed:
    case errc::response_too_large:
    case errc::queue_full:
    case errc::protocol_error:
    case errc::cancelled:
    case errc::client_shut_down:
    case errc::credentials_failed:  // the soak sends none
    case errc::tls_configuration:
    case errc::body_idle_timeout:  // the soak sets no body idle limit
    case errc::callback_threw:  // the soak's sinks and callbacks never throw
    case errc::proxy_unreachable:  // the soak uses no proxy
    case errc::proxy_auth_required:
    case errc::proxy_tunnel_refused:
    case errc::http2_required:  // the soak writes no streaming bodies
    case errc::too_many_redirects:  // the soak follows no redirects and decodes nothing
    case errc::redirect_loop:
    case errc::content_decoding_failed:
    case errc::client_certificate_rejected: return false;
  }
  return false;
}

// The progress each code implies, where it implies one.
std::optional<Finding> progress_agrees(const Error& e) {
  const progress p = e.reached();
  const auto says = [&](const char* code, progress want) -> std::optional<Finding> {
    if (p == want) return std::nullopt;
    return finding("error_matches_progress",
                   std::string(code) + " must say \"" + to_string(want) + "\", says \"" + to_string(p) + "\"");
  };
  if (e == errc::truncated_response) return says("truncated_response", progress::response_started);
  if (e == errc::connection_lost_after_send) return says("connection_lost_after_send", progress::sent);
  if (e == errc::refused_by_server) return says("refused_by_server", progress::refused);
  if (e == errc::response_header_timeout) return says("response_header_timeout", progress::sent);
  if (e == errc::connection_refused || e == errc::connect_timeout) return says("a dial error", progress::not_sent);
  if (p == progress::refused && e != errc::refused_by_server)
    return finding("error_matches_progress", "\"refused\" progress with " + error_kind(e.code()));
  return std::nullopt;
}

std::optional<Finding> check_body(const CompletionFacts& f, const Response& r) {
  const Spec& s = f.spec;
  const std::string& body = r.body();
  switch (s.kind) {
    case Kind::get_bytes: {
      if (body.size() != s.size)
        return finding("success_is_whole", "body of " + std::to_string(body.size()) + " bytes, expected " +
                                               std::to_string(s.size) + " (a truncated body reported as success?)");
      for (std::size_t i = 0; i < body.size(); ++i)
        if (body[i] != pattern_byte(i))
          return finding("success_is_whole", "body differs from /bytes' pattern at offset " + std::to_string(i));
      return std::nullopt;
    }
    case Kind::get_bytes_streamed: {
      const auto got = f.seen.sink_bytes.load();
      if (got != s.size || !body.empty())
        return finding("success_is_whole", "the sink got " + std::to_string(got) + " bytes of " +
                                               std::to_string(s.size) + " (body() holds " +
                                               std::to_string(body.size()) + ")");
      return std::nullopt;  // content: checked as it streamed (sink_mismatch)
    }
    case Kind::get_delay: {
      const std::string want = "delayed " + std::to_string(s.size) + " ms\n";
      if (body != want) return finding("success_is_whole", "delay body \"" + body.substr(0, 60) + "\"");
      return std::nullopt;
    }
    default: break;
  }
  // /echo: "METHOD TARGET PROTOCOL\n" header lines "\n" then the body.
  const std::string protocol = speaks_h2(f.mode) ? "HTTP/2" : "HTTP/1.1";
  const std::string first = std::string(method_of(s.kind)) + " " + s.target + " " + protocol + "\n";
  if (body.compare(0, first.size(), first) != 0)
    return finding("success_is_whole", "echo starts \"" + body.substr(0, body.find('\n')) + "\", expected \"" +
                                           first.substr(0, first.size() - 1) + "\" (another request's answer?)");
  const auto end_of_headers = body.find("\n\n");
  if (end_of_headers == std::string::npos) return finding("success_is_whole", "echo without end of headers");
  const std::string id_line = "\nx-request-id: " + std::to_string(s.id) + "\n";
  if (body.substr(0, end_of_headers + 1).find(id_line) == std::string::npos)
    return finding("success_is_whole", "echo does not carry x-request-id " + std::to_string(s.id));
  const std::string_view echoed = std::string_view(body).substr(end_of_headers + 2);
  const std::string_view sent = f.seen.upload ? std::string_view(*f.seen.upload) : std::string_view();
  if (echoed != sent) {
    std::size_t i = 0;
    while (i < echoed.size() && i < sent.size() && echoed[i] == sent[i]) ++i;
    return finding("success_is_whole", "the server received " + std::to_string(echoed.size()) + " body bytes, " +
                                           std::to_string(sent.size()) + " were sent; first difference at " +
                                           std::to_string(i));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Finding> check_completion(const CompletionFacts& f, const Result<Response>& result) {
  if (f.elapsed > f.timeout + f.grace)
    return finding("completed_before_deadline", "completed after " + ms(f.elapsed) + "; deadline " + ms(f.timeout) +
                                                    " + grace " + ms(f.grace));
  if (const int again = f.seen.source_calls_after_end.load(); again > 0)
    return finding("no_resend_after_sent", "the body source was called " + std::to_string(again) +
                                               " times after it ended: the streamed body was read for another attempt");
  const auto sunk = f.seen.sink_bytes.load();
  if (const auto at = f.seen.sink_mismatch.load(); at >= 0 || sunk > f.spec.size)
    return finding("no_retry_after_response_started",
                   "the body sink got " + std::to_string(sunk) + " bytes of a " + std::to_string(f.spec.size) +
                       "-byte body" + (at >= 0 ? ", out of pattern at offset " + std::to_string(at) : std::string()) +
                       ": a second attempt's body after the first had started");
  const int attempts = result ? result->attempts() : result.error().attempts();
  // Refused attempts (retried, or the last one) are not counted against
  // max_attempts: the deadline and the retry budget bound those.
  const int refused = f.seen.refused_retries.load() + (!result && result.error().reached() == progress::refused);
  if (attempts - refused > f.max_attempts)
    return finding("attempts_within_limit", std::to_string(attempts) + " attempts (" + std::to_string(refused) +
                                                " refused), Options::max_attempts is " + std::to_string(f.max_attempts));

  if (result) {
    const Response& r = *result;
    if (r.status() != 200) return finding("success_is_whole", "status " + std::to_string(r.status()));
    const Protocol want = speaks_h2(f.mode) ? Protocol::http2 : Protocol::http1;
    if (r.protocol() != want)
      return finding("success_is_whole", std::string("answered over ") + to_string(r.protocol()) + " by a " +
                                             to_string(f.mode) + " client");
    if (attempts < 1) return finding("error_matches_progress", "a response after 0 attempts");
    return check_body(f, r);
  }

  const Error& e = result.error();
  if (!expected_kind(e.code()))
    return finding("error_kind_expected", error_kind(e.code()) + " cannot come from the injected faults");
  if (auto bad = progress_agrees(e)) return bad;
  if (sunk > 0 && e.reached() != progress::response_started)
    return finding("error_reports_response_started", std::to_string(sunk) + " body bytes had arrived, yet " +
                                                         error_kind(e.code()) + " says \"" + to_string(e.reached()) +
                                                         "\"");
  if (e == errc::deadline_exceeded && f.elapsed + std::chrono::milliseconds(50) < f.timeout)
    return finding("error_matches_progress",
                   "deadline_exceeded after " + ms(f.elapsed) + " of a " + ms(f.timeout) + " deadline");
  return std::nullopt;
}

std::optional<Finding> check_retry(Kind kind, progress failed_at) {
  if (failed_at == progress::response_started)
    return finding("no_retry_after_response_started", "retried after an attempt whose response had started");
  if (failed_at == progress::sent && (kind == Kind::post_plain || kind == Kind::post_streamed_chunked))
    return finding("no_resend_after_sent", "a POST without Idempotency-Key retried after an attempt that was sent");
  return std::nullopt;
}

std::optional<Finding> check_dial_rate(std::uint64_t failures, std::uint64_t started, std::chrono::milliseconds window) {
  // Per request: up to max_attempts failed dials, a few more when HTTP/1.1
  // dials run in parallel; plus a floor for requests started before the
  // window. A redial loop without backoff makes thousands per request.
  constexpr std::uint64_t per_request = 10, floor_per_second = 100;
  const auto allowed = per_request * started + floor_per_second * static_cast<std::uint64_t>(window.count()) / 1000;
  if (failures <= allowed) return std::nullopt;
  return finding("dials_back_off", std::to_string(failures) + " failed dials in " + ms(window) + " for " +
                                       std::to_string(started) + " requests started (bound " +
                                       std::to_string(allowed) + "): redialing without backoff");
}

std::optional<Finding> check_runs(const Entry& e, bool final) {
  if (e.runs > 1 && runs_at_most_once(e.kind))
    return finding("ran_at_most_once", std::to_string(e.runs) + " runs on the servers");
  if (e.state != Entry::State::running && e.runs > e.attempts)
    return finding("runs_within_attempts", std::to_string(e.runs) + " runs on the servers, " +
                                               std::to_string(e.attempts) + " attempts reported by the client");
  if (!final) return std::nullopt;
  if (e.state == Entry::State::succeeded && e.runs == 0)
    return finding("success_was_run", "a success no server logged");
  // The server proved it did not process the last attempt, or it never
  // left the client; no earlier attempt can have been sent (or it would
  // not have been retried), so no server ran it.
  if (e.state == Entry::State::failed && runs_at_most_once(e.kind) && e.runs > 0 &&
      (e.reached == progress::not_sent || e.reached == progress::refused))
    return finding("unsent_never_ran", std::to_string(e.runs) + " run(s) on the servers, yet the error says \"" +
                                           to_string(e.reached) + "\"");
  return std::nullopt;
}

}  // namespace rebound::soak
