// Discovery documents: see discovery.hpp.
#include "discovery.hpp"

#include <rebound/lease/lease.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace rebound::lease::detail {

namespace {

server::ServerResponse document(const boost::json::object& body) {
  return server::ServerResponse{200, {{"content-type", "application/json"}}, boost::json::serialize(body) + "\n", {}, {}};
}

boost::json::object group_version() {
  return {{"groupVersion", api_version}, {"version", "v1"}};
}

boost::json::object api_group_object() {
  return {{"name", api_group}, {"versions", boost::json::array{group_version()}}, {"preferredVersion", group_version()}};
}

boost::json::object core_versions() {
  return {{"kind", "APIVersions"}, {"versions", boost::json::array{"v1"}}, {"serverAddressByClientCIDRs", boost::json::array{}}};
}

boost::json::object core_resources() {
  return {{"kind", "APIResourceList"}, {"groupVersion", "v1"}, {"resources", boost::json::array{}}};
}

boost::json::object group_list() {
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", boost::json::array{api_group_object()}}};
}

boost::json::object group() {
  auto o = api_group_object();
  o["kind"] = "APIGroup";
  o["apiVersion"] = "v1";
  return o;
}

boost::json::object lease_resources() {
  // Only the verbs the Lease API serves: no patch, no deletecollection.
  boost::json::object leases{{"name", "leases"},
                             {"singularName", "lease"},
                             {"namespaced", true},
                             {"kind", "Lease"},
                             {"verbs", boost::json::array{"create", "delete", "get", "list", "update", "watch"}}};
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", api_version},
          {"resources", boost::json::array{std::move(leases)}}};
}

}  // namespace

void install_discovery(server::Server& server) {
  const std::pair<const char*, boost::json::object (*)()> routes[] = {
      {"/api", core_versions},
      {"/api/v1", core_resources},
      {"/apis", group_list},
      {"/apis/coordination.k8s.io", group},
      {"/apis/coordination.k8s.io/v1", lease_resources},
  };
  for (const auto& [path, make] : routes) {
    server.route(path, [body = make()](const server::ServerRequest& request) {
      if (request.method != "GET")
        return server::ServerResponse{405, {{"content-type", "text/plain"}}, "method not allowed\n", {}, {}};
      return document(body);
    });
  }
}

}  // namespace rebound::lease::detail
