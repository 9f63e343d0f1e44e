// The elector's Lease API calls: see lease_api.hpp.
#include "lease_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>


namespace rebound::lease::detail {

namespace {

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The Status message of an error answer, or the start of whatever came.
std::string describe_failure(const Response& res) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(res.body(), ec);
  if (!ec && doc.is_object()) {
    const auto& o = doc.get_object();
    const auto* reason = o.if_contains("reason");
    const auto* message = o.if_contains("message");
    std::string out;
    if (reason && reason->is_string()) out = std::string(reason->get_string());
    if (message && message->is_string()) out += (out.empty() ? "" : ": ") + std::string(message->get_string());
    if (!out.empty()) return out;
  }
  return "HTTP " + std::to_string(res.status()) + ": " + res.body().substr(0, 200);
}

}  // namespace

LeaseApi::LeaseApi(const Options& client_options, std::string base_url, std::string ns, std::string name)
    : client_(client_options),
      collection_url_(trim_slash(std::move(base_url)) + leases_path(ns)),
      lease_url_(collection_url_ + "/" + name) {}

ApiResult LeaseApi::get(std::chrono::milliseconds timeout, const Cancellation& cancel) {
  return send(Request::get(lease_url_), timeout, cancel);
}

ApiResult LeaseApi::create(const boost::json::object& lease, std::chrono::milliseconds timeout,
                           const Cancellation& cancel) {
  // A create cannot apply twice (the second gets AlreadyExists), so resending
  // after an ambiguous failure is safe.
  auto request = Request::post(collection_url_, boost::json::serialize(lease), "application/json");
  request.retry_policy(RetryPolicy::always);
  return send(std::move(request), timeout, cancel);
}

ApiResult LeaseApi::update(const boost::json::object& lease, std::chrono::milliseconds timeout,
                           const Cancellation& cancel) {
  Request request("PUT", lease_url_);
  request.body(boost::json::serialize(lease)).header("content-type", "application/json");
  // The PUT carries the resourceVersion it was based on, so a resend after
  // an ambiguous failure is a conditional write too: it cannot apply twice
  // (a second copy meets 409). Without one it would be a blind overwrite.
  const auto* meta = lease.if_contains("metadata");
  const bool conditional = meta && meta->is_object() && meta->get_object().contains("resourceVersion");
  request.retry_policy(conditional ? RetryPolicy::always : RetryPolicy::automatic);
  return send(std::move(request), timeout, cancel);
}

ApiResult LeaseApi::send(Request request, std::chrono::milliseconds timeout, const Cancellation& cancel) {
  ApiResult out;
  if (timeout <= std::chrono::milliseconds::zero()) {
    out.error_kind = to_string(errc::deadline_exceeded);
    out.message = "no time left before the deadline";
    return out;
  }
  request.header("accept", "application/json");
  request.timeout(timeout).cancellation(cancel);

  auto result = client_.send(std::move(request));
  if (!result) {
    out.error_kind = error_kind(result.error().code());
    out.message = result.error().message();
    return out;
  }
  out.status = result->status();
  switch (out.status) {
    case 200:
    case 201: break;
    case 404:
      out.outcome = ApiOutcome::not_found;
      out.error_kind = "http_404";
      out.message = describe_failure(*result);
      return out;
    case 409:
      out.outcome = ApiOutcome::conflict;
      out.error_kind = "http_409";
      out.message = describe_failure(*result);
      return out;
    default:
      out.error_kind = "http_" + std::to_string(out.status);
      out.message = describe_failure(*result);
      return out;
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(result->body(), ec);
  std::string why;
  auto lease = ec ? std::nullopt : lease_from_json(doc, &why);
  if (!lease) {
    out.error_kind = "bad_response";
    out.message = ec ? "the answer is not JSON: " + ec.message() : "the answer is not a Lease: " + why;
    return out;
  }
  out.outcome = ApiOutcome::ok;
  out.object = std::move(doc.get_object());
  out.lease = std::move(lease);
  return out;
}

}  // namespace rebound::lease::detail
