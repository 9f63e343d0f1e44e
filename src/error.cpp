// rebound's error and condition categories, and the predicates that classify
// codes of any category. Identity never depends on addresses: our categories
// carry fixed ids, and foreign categories without ids are recognised by their
// stable names (Asio and Beast name their categories "asio.misc", ...), so a
// code that crossed from another copy of Asio or rebound still classifies.
#include <rebound/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <cerrno>
#include <cstring>

namespace rebound {
namespace {

class ErrorCategory final : public boost::system::error_category {
 public:
  constexpr ErrorCategory() noexcept : error_category(error_category_id) {}
  const char* name() const noexcept override { return "rebound"; }
  std::string message(int ev) const override;
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    return {ev, *this};
  }
};

class ConditionCategory final : public boost::system::error_category {
 public:
  constexpr ConditionCategory() noexcept : error_category(condition_category_id) {}
  const char* name() const noexcept override { return "rebound.condition"; }
  std::string message(int ev) const override;
  bool equivalent(const error_code& code, int cond) const noexcept override;
};

std::string ErrorCategory::message(int ev) const {
  switch (static_cast<errc>(ev)) {
    case errc::invalid_url: return "invalid URL";
    case errc::unsupported_scheme: return "unsupported URL scheme (use http or https)";
    case errc::invalid_request: return "invalid request";
    case errc::resolve_failed: return "host name did not resolve";
    case errc::connection_refused: return "connection refused";
    case errc::connect_timeout: return "connect timed out";
    case errc::tls_handshake_failed: return "TLS handshake failed";
    case errc::certificate_verify_failed: return "certificate verification failed";
    case errc::protocol_negotiation_failed: return "protocol negotiation failed";
    case errc::connection_closed: return "connection closed by peer";
    case errc::connection_lost_after_send:
      return "connection lost after the request was sent (the server may have processed it)";
    case errc::truncated_response: return "connection lost while the response was arriving";
    case errc::health_check_failed: return "health check failed: no PING acknowledgement";
    case errc::deadline_exceeded: return "deadline exceeded";
    case errc::response_header_timeout: return "timed out waiting for the response header";
    case errc::response_too_large: return "response too large";
    case errc::queue_full: return "too many requests waiting for a connection";
    case errc::protocol_error: return "protocol error";
    case errc::refused_by_server: return "refused by server (not processed)";
    case errc::stream_reset: return "stream reset by server";
    case errc::cancelled: return "cancelled";
    case errc::client_shut_down: return "client shut down";
    case errc::retries_exhausted: return "retries exhausted";
    case errc::credentials_failed: return "credentials unavailable";
    case errc::tls_configuration: return "TLS configuration unusable";
    case errc::body_idle_timeout: return "response body went idle";
    case errc::client_certificate_rejected: return "the server rejected the client certificate (or its absence)";
    case errc::callback_threw: return "a callback of the request threw";
    case errc::proxy_unreachable: return "the proxy could not be reached";
    case errc::proxy_auth_required: return "the proxy requires authentication (or refused the credentials)";
    case errc::proxy_tunnel_refused: return "the proxy refused to open a tunnel to the origin";
    case errc::http2_required: return "the request needs HTTP/2 and the connection speaks HTTP/1.1";
    case errc::too_many_redirects: return "too many redirects";
    case errc::redirect_loop: return "redirect loop";
    case errc::content_decoding_failed: return "the response body's content encoding did not decode";
  }
  return "unknown rebound error " + std::to_string(ev);
}

std::string ConditionCategory::message(int ev) const {
  switch (static_cast<condition>(ev)) {
    case condition::connection_failure: return "connection failure";
    case condition::timeout: return "timeout";
    case condition::retryable: return "retryable failure";
    case condition::request_error: return "invalid request";
  }
  return "unknown rebound condition " + std::to_string(ev);
}

bool named(const error_code& ec, const char* category_name) noexcept {
  return std::strcmp(ec.category().name(), category_name) == 0;
}

// The errno-style value of a system/generic code (both carry Boost's fixed ids).
int posix_value(const error_code& ec) noexcept {
  if (ec.category() == boost::system::system_category() ||
      ec.category() == boost::system::generic_category())
    return ec.value();
  return 0;
}

// Maps foreign codes to the rebound code they mean, or 0 when not recognised.
errc foreign_equivalent(const error_code& ec) noexcept {
  switch (posix_value(ec)) {
    case ECONNREFUSED: return errc::connection_refused;
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENOTCONN:
    case ENETRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN: return errc::connection_closed;
    case ETIMEDOUT: return errc::connect_timeout;
    case ECANCELED: return errc::cancelled;
    default: break;
  }
  if (named(ec, "asio.misc") && ec.value() == boost::asio::error::eof)
    return errc::connection_closed;
  if (named(ec, "asio.ssl.stream") && ec.value() == static_cast<int>(boost::asio::ssl::error::stream_truncated))
    return errc::connection_closed;
  if (named(ec, "asio.netdb") || named(ec, "asio.addrinfo")) return errc::resolve_failed;
  if (named(ec, "boost.beast") && ec.value() == 1 /* beast::error::timeout */)
    return errc::deadline_exceeded;
  return static_cast<errc>(0);
}

errc as_rebound(const error_code& ec) noexcept {
  if (ec.category() == error_category()) return static_cast<errc>(ec.value());
  return foreign_equivalent(ec);
}

bool in_condition(errc e, condition c) noexcept {
  switch (c) {
    case condition::connection_failure:
      return e == errc::connection_refused || e == errc::connection_closed ||
             e == errc::connection_lost_after_send || e == errc::truncated_response ||
             e == errc::health_check_failed || e == errc::connect_timeout ||
             e == errc::proxy_unreachable;
    case condition::timeout:
      return e == errc::connect_timeout || e == errc::deadline_exceeded ||
             e == errc::response_header_timeout || e == errc::health_check_failed ||
             e == errc::body_idle_timeout;
    case condition::retryable:
      return e == errc::resolve_failed || e == errc::connection_refused ||
             e == errc::connect_timeout || e == errc::connection_closed ||
             e == errc::connection_lost_after_send || e == errc::health_check_failed ||
             e == errc::refused_by_server || e == errc::response_header_timeout ||
             e == errc::tls_handshake_failed || e == errc::proxy_unreachable ||
             e == errc::proxy_tunnel_refused;
    case condition::request_error:
      return e == errc::invalid_url || e == errc::unsupported_scheme ||
             e == errc::invalid_request || e == errc::tls_configuration || e == errc::callback_threw ||
             e == errc::http2_required;
  }
  return false;
}

bool ConditionCategory::equivalent(const error_code& code, int cond) const noexcept {
  const errc e = as_rebound(code);
  return static_cast<int>(e) != 0 && in_condition(e, static_cast<condition>(cond));
}

constinit const ErrorCategory error_category_instance;
constinit const ConditionCategory condition_category_instance;

}  // namespace

const boost::system::error_category& error_category() noexcept { return error_category_instance; }
const boost::system::error_category& condition_category() noexcept {
  return condition_category_instance;
}

const char* to_string(errc e) noexcept {
  switch (e) {
#define REBOUND_ERRC_NAME(n) case errc::n: return #n;
    REBOUND_ERRC_NAME(invalid_url)
    REBOUND_ERRC_NAME(unsupported_scheme)
    REBOUND_ERRC_NAME(invalid_request)
    REBOUND_ERRC_NAME(resolve_failed)
    REBOUND_ERRC_NAME(connection_refused)
    REBOUND_ERRC_NAME(connect_timeout)
    REBOUND_ERRC_NAME(tls_handshake_failed)
    REBOUND_ERRC_NAME(certificate_verify_failed)
    REBOUND_ERRC_NAME(protocol_negotiation_failed)
    REBOUND_ERRC_NAME(connection_closed)
    REBOUND_ERRC_NAME(connection_lost_after_send)
    REBOUND_ERRC_NAME(truncated_response)
    REBOUND_ERRC_NAME(health_check_failed)
    REBOUND_ERRC_NAME(deadline_exceeded)
    REBOUND_ERRC_NAME(response_header_timeout)
    REBOUND_ERRC_NAME(response_too_large)
    REBOUND_ERRC_NAME(queue_full)
    REBOUND_ERRC_NAME(protocol_error)
    REBOUND_ERRC_NAME(refused_by_server)
    REBOUND_ERRC_NAME(stream_reset)
    REBOUND_ERRC_NAME(cancelled)
    REBOUND_ERRC_NAME(client_shut_down)
    REBOUND_ERRC_NAME(retries_exhausted)
    REBOUND_ERRC_NAME(credentials_failed)
    REBOUND_ERRC_NAME(tls_configuration)
    REBOUND_ERRC_NAME(body_idle_timeout)
    REBOUND_ERRC_NAME(client_certificate_rejected)
    REBOUND_ERRC_NAME(callback_threw)
    REBOUND_ERRC_NAME(proxy_unreachable)
    REBOUND_ERRC_NAME(proxy_auth_required)
    REBOUND_ERRC_NAME(proxy_tunnel_refused)
    REBOUND_ERRC_NAME(http2_required)
    REBOUND_ERRC_NAME(too_many_redirects)
    REBOUND_ERRC_NAME(redirect_loop)
    REBOUND_ERRC_NAME(content_decoding_failed)
#undef REBOUND_ERRC_NAME
  }
  return "unknown";
}

const char* to_string(progress p) noexcept {
  switch (p) {
    case progress::not_sent: return "not sent";
    case progress::refused: return "refused unprocessed by the server";
    case progress::sent: return "sent, no response";
    case progress::response_started: return "response started";
  }
  return "unknown";
}

std::string error_kind(const error_code& ec) {
  if (const errc e = as_rebound(ec); static_cast<int>(e) != 0) return to_string(e);
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

bool is_connection_failure(const error_code& ec) noexcept {
  return ec == condition::connection_failure;
}
bool is_timeout(const error_code& ec) noexcept { return ec == condition::timeout; }
bool is_retryable(const error_code& ec) noexcept { return ec == condition::retryable; }

std::string Error::message() const {
  std::string m = code_.category() == error_category() ? code_.message()
                                                       : error_kind(code_) + " (" + code_.message() + ")";
  if (!where_.empty()) m += ": " + where_;
  m += " [";
  m += to_string(reached_);
  if (attempts_ > 0) m += ", attempts: " + std::to_string(attempts_);
  m += "]";
  return m;
}

Exception::Exception(Error e) : std::runtime_error(e.message()), error_(std::move(e)) {}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw Exception(e);
}

}  // namespace rebound
