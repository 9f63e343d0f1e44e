// Kubernetes Status bodies: see k8s_status.hpp.
#include "k8s_status.hpp"

#include <rebound/lease/lease.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace rebound::lease::detail {

namespace {

server::ServerResponse json_response(int status, const boost::json::object& body) {
  return server::ServerResponse{status, {{"content-type", "application/json"}}, boost::json::serialize(body) + "\n",
                                {}};
}

boost::json::object status_object(std::string_view status, std::string_view name) {
  boost::json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = boost::json::object{};
  o["status"] = status;
  if (!name.empty()) o["details"] = boost::json::object{{"name", name}, {"group", api_group}, {"kind", "leases"}};
  return o;
}

}  // namespace

server::ServerResponse status_failure(int status, std::string_view reason, std::string message,
                                      std::string_view name) {
  auto o = status_object("Failure", name);
  o["message"] = std::move(message);
  o["reason"] = reason;
  o["code"] = status;
  return json_response(status, o);
}

server::ServerResponse status_invalid(std::string_view name, std::string_view field, std::string_view value,
                                      std::string_view detail) {
  const std::string what = "Invalid value: " + std::string(value) + ": " + std::string(detail);
  auto o = status_object("Failure", name);
  o["message"] = "leases." + std::string(api_group) + " \"" + std::string(name) + "\" is invalid: " +
                 std::string(field) + ": " + what;
  o["reason"] = "Invalid";
  o["code"] = 422;
  o["details"].as_object()["causes"] =
      boost::json::array{boost::json::object{{"reason", "FieldValueInvalid"}, {"message", what}, {"field", field}}};
  return json_response(422, o);
}

boost::json::object failure_object(int code, std::string_view reason, std::string message) {
  auto o = status_object("Failure", {});
  o["message"] = std::move(message);
  o["reason"] = reason;
  o["code"] = code;
  return o;
}

server::ServerResponse status_forbidden(std::string_view verb, std::string_view ns, std::string_view name,
                                        std::string_view user) {
  std::string what = "leases." + std::string(api_group);
  if (!name.empty()) what += " \"" + std::string(name) + "\"";
  auto o = status_object("Failure", name);
  o["message"] = what + " is forbidden: User \"" + std::string(user) + "\" cannot " + std::string(verb) +
                 " resource \"leases\" in API group \"" + std::string(api_group) + "\" in the namespace \"" +
                 std::string(ns) + "\"";
  o["reason"] = "Forbidden";
  if (name.empty()) o["details"] = boost::json::object{{"group", api_group}, {"kind", "leases"}};
  o["code"] = 403;
  return json_response(403, o);
}

server::ServerResponse status_timeout_too_large(std::uint64_t requested, std::uint64_t current) {
  auto o = status_object("Failure", {});
  o["message"] = "Too large resource version: " + std::to_string(requested) + ", current: " + std::to_string(current);
  o["reason"] = "Timeout";
  o["details"] = boost::json::object{
      {"causes", boost::json::array{boost::json::object{{"reason", "ResourceVersionTooLarge"},
                                                        {"message", "Too large resource version"}}}},
      {"retryAfterSeconds", 1}};
  o["code"] = 504;
  return json_response(504, o);
}

server::ServerResponse status_success(std::string_view name) {
  auto o = status_object("Success", name);
  o["code"] = 200;
  return json_response(200, o);
}

}  // namespace rebound::lease::detail
