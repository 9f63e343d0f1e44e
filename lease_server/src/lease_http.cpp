// The Lease API's HTTP face: route the request (path and method), check the
// bearer token and refuse writes by read-only users, validate bodies the way
// the API server does, call the LeaseTable (or the WatchHub for a watch), and
// turn its outcome into a status code and a Lease, LeaseList or Status body.
// Also LeaseStore's public members and install_lease_api.
#include "rebound/lease_server/lease_store.hpp"

#include "discovery.hpp"
#include "k8s_status.hpp"
#include "list_query.hpp"
#include "lease_table.hpp"
#include "write_times.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <chrono>
#include <optional>
#include <variant>

namespace rebound::lease {

namespace {

using server::ServerRequest;
using server::ServerResponse;
using detail::status_failure;

ServerResponse json_ok(int status, const boost::json::object& body) {
  return ServerResponse{status, {{"content-type", "application/json"}}, boost::json::serialize(body) + "\n", {}};
}

std::string quoted(std::string_view name) { return "leases.coordination.k8s.io \"" + std::string(name) + "\""; }

bool alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 subdomain, as Kubernetes requires of object names.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || !alnum_lower(s.front()) || !alnum_lower(s.back())) return false;
  for (char c : s)
    if (!alnum_lower(c) && c != '-' && c != '.') return false;
  return true;
}

// RFC 1123 label, as Kubernetes requires of namespaces.
bool valid_namespace(std::string_view s) {
  return !s.empty() && s.size() <= 63 && s.find('.') == std::string_view::npos && valid_name(s);
}

// The all-namespaces collection (list and watch only).
constexpr std::string_view kAllNamespaces = "/apis/coordination.k8s.io/v1/leases";

// The parts of a path under the prefix: {ns}/leases or {ns}/leases/{name}.
struct Target {
  std::string ns;    // empty: every namespace (kAllNamespaces)
  std::string name;  // empty: the collection
};

std::optional<Target> parse_target(std::string_view path) {
  if (path == kAllNamespaces) return Target{};
  if (!path.starts_with(lease_api_prefix)) return std::nullopt;
  path.remove_prefix(lease_api_prefix.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  Target t{std::string(path.substr(0, slash)), {}};
  path.remove_prefix(slash + 1);
  if (!valid_namespace(t.ns) || !path.starts_with("leases")) return std::nullopt;
  path.remove_prefix(6);
  if (path.empty()) return t;
  if (path.front() != '/' || path.size() == 1) return std::nullopt;
  t.name = std::string(path.substr(1));
  if (t.name.find('/') != std::string::npos) return std::nullopt;
  return t;
}

// A request body that passed validation.
struct ValidBody {
  boost::json::object object;
  LeaseSpec spec;
  std::string name;
  std::string resource_version;
  std::string uid;
};

// What the API server checks before touching storage. `url_name` is empty
// for a create (the name comes from the body).
std::variant<ValidBody, ServerResponse> validate_body(const ServerRequest& request, const std::string& ns,
                                                      const std::string& url_name,
                                                      std::optional<std::chrono::seconds> max_duration) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(request.body, ec);
  if (ec || !doc.is_object())
    return status_failure(400, "BadRequest", "the request body is not a JSON object: " + ec.message());
  auto& object = doc.get_object();
  if (const auto* kind = object.if_contains("kind"); kind && !(kind->is_string() && kind->get_string() == "Lease"))
    return status_failure(400, "BadRequest", "kind must be Lease");
  if (const auto* v = object.if_contains("apiVersion");
      v && !(v->is_string() && v->get_string() == api_version))
    return status_failure(400, "BadRequest", "apiVersion must be coordination.k8s.io/v1");
  // kube-apiserver fails the decoding of a MicroTime that is not
  // RFC3339Micro; the rest of the store sees only the UTC form it stores.
  if (auto why = detail::normalise_write_times(object); !why.empty())
    return status_failure(400, "BadRequest", "Lease in version \"v1\" cannot be handled as a Lease: " + why);
  std::string why;
  auto lease = lease_from_json(object, &why);
  if (!lease) return status_failure(400, "BadRequest", "cannot decode the Lease: " + why);

  ValidBody body;
  body.name = lease->metadata.name;
  if (!url_name.empty()) {
    if (body.name.empty()) body.name = url_name;
    if (body.name != url_name)
      return status_failure(400, "BadRequest",
                            "the name of the object (" + body.name + ") does not match the name on the URL (" +
                                url_name + ")");
  }
  if (!lease->metadata.namespace_.empty() && lease->metadata.namespace_ != ns)
    return status_failure(400, "BadRequest",
                          "the namespace of the provided object does not match the namespace sent on the request");
  if (body.name.empty()) return status_failure(422, "Invalid", "Lease is invalid: metadata.name: Required value");
  if (!valid_name(body.name))
    return status_failure(422, "Invalid",
                          quoted(body.name) + " is invalid: metadata.name: must be a lowercase RFC 1123 subdomain",
                          body.name);
  if (lease->spec.lease_duration_seconds && *lease->spec.lease_duration_seconds <= 0)
    return status_failure(422, "Invalid",
                          quoted(body.name) + " is invalid: spec.leaseDurationSeconds: must be greater than 0",
                          body.name);
  if (max_duration && lease->spec.lease_duration_seconds && *lease->spec.lease_duration_seconds > max_duration->count())
    return status_failure(422, "Invalid",
                          quoted(body.name) + " is invalid: spec.leaseDurationSeconds: must be at most " +
                              std::to_string(max_duration->count()) +
                              " on this server (--max-lease-duration: a restart forgets its leases for that long)",
                          body.name);
  if (lease->spec.lease_transitions < 0)
    return status_failure(422, "Invalid",
                          quoted(body.name) + " is invalid: spec.leaseTransitions: must be greater than or equal to 0",
                          body.name);
  body.spec = lease->spec;
  body.resource_version = lease->metadata.resource_version;
  body.uid = lease->metadata.uid;
  body.object = std::move(object);
  return body;
}

ServerResponse storage_failure(const detail::TableResult& r, const std::string& name) {
  return status_failure(500, "InternalError", "storing " + quoted(name) + " failed: " + r.message, name);
}

ServerResponse not_found(const std::string& name) {
  return status_failure(404, "NotFound", quoted(name) + " not found", name);
}


// 503 for a write while a store that forgot its leases waits them out.
ServerResponse writes_held(std::chrono::steady_clock::duration left) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(left).count();
  auto r = status_failure(503, "ServiceUnavailable",
                          "the server started without its leases and holds writes until every lease it may have "
                          "forgotten has expired (" + std::to_string(seconds) + " s more)");
  r.headers.emplace_back("retry-after", std::to_string(seconds));
  return r;
}

// The verb kube-apiserver's authorizer names for a write, or "" for a read.
std::string_view write_verb(const std::string& method, bool collection) {
  if (method == "POST" && collection) return "create";
  if (method == "PUT" && !collection) return "update";
  if (method == "DELETE" && !collection) return "delete";
  return {};
}

}  // namespace

LeaseStore::LeaseStore(LeaseStoreOptions options)
    : options_(std::move(options)),
      table_(std::make_unique<detail::LeaseTable>(options_.persist_path, options_.move_aside_corrupt_file)) {
  detail::WatchOptions w;
  w.window = options_.watch_window;
  w.bookmark_interval = options_.bookmark_interval;
  w.default_timeout = options_.default_watch_timeout;
  w.log_path = options_.watch_log;
  hub_ = std::make_unique<detail::WatchHub>(std::move(w), table_->revision());
  table_->on_commit([hub = hub_.get()](const detail::CommitEvent& event) { hub->publish(event); });
  const bool forgot = options_.persist_path.empty() || !table_->moved_aside().empty();
  if (options_.max_lease_duration && forgot)
    writes_held_until_ = std::chrono::steady_clock::now() + *options_.max_lease_duration;
}


LeaseStore::~LeaseStore() = default;

server::ServerResponse LeaseStore::handle_collection(const server::ServerRequest& request, const std::string& ns) {
  const auto& method = request.method;
  if (method == "GET") {
    std::string error;
    const auto query = detail::parse_list_query(request.target, ns, error);
    if (!error.empty()) return status_failure(400, "BadRequest", error);
    if (query.watch) return hub_->watch(query, [this] { return table_->committed(); });
    auto list = table_->list(query.filter);
    if (!query.resource_version.empty() && query.resource_version != "0") {
      // kube-apiserver's list semantics: "not older than" R by default, R
      // exactly with resourceVersionMatch=Exact (only the current state is kept).
      std::uint64_t wanted = 0;
      const auto& rv = query.resource_version;
      const auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), wanted);
      if (ec != std::errc() || end != rv.data() + rv.size())
        return status_failure(400, "BadRequest", "invalid resource version: " + rv);
      const std::uint64_t current =
          std::stoull(std::string(list.at("metadata").as_object().at("resourceVersion").as_string()));
      if (wanted > current) return detail::status_timeout_too_large(wanted, current);
      if (query.resource_version_match == "Exact" && wanted < current)
        return status_failure(410, "Expired", "The resourceVersion for the provided list is too old.");
    }
    return json_ok(200, list);
  }
  if (ns.empty() || method != "POST")
    return status_failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  auto valid = validate_body(request, ns, {}, options_.max_lease_duration);
  if (auto* error = std::get_if<ServerResponse>(&valid)) return std::move(*error);
  auto& body = std::get<ValidBody>(valid);
  const auto r = table_->create(ns, body.name, std::move(body.object), body.spec);
  switch (r.outcome) {
    case detail::TableOutcome::created: return json_ok(201, r.object);
    case detail::TableOutcome::already_exists:
      return status_failure(409, "AlreadyExists", quoted(body.name) + " already exists", body.name);
    case detail::TableOutcome::storage_failed: return storage_failure(r, body.name);
    case detail::TableOutcome::ok:
    case detail::TableOutcome::not_found:
    case detail::TableOutcome::conflict:
    case detail::TableOutcome::uid_mismatch:
    case detail::TableOutcome::version_required: break;
  }
  return status_failure(500, "InternalError", "unexpected store outcome", body.name);
}

server::ServerResponse LeaseStore::handle(const server::ServerRequest& request) {
  if (!options_.bearer_token.empty() && request.header("authorization") != "Bearer " + options_.bearer_token)
    return status_failure(401, "Unauthorized", "Unauthorized");

  const auto target = parse_target(request.path);
  if (!target) return status_failure(404, "NotFound", "the server could not find the requested resource");
  const auto& ns = target->ns;
  const auto& name = target->name;
  const auto& method = request.method;

  // Authorization, after authentication (the server's) and before anything
  // else, as kube-apiserver orders its filters.
  const auto verb = write_verb(method, name.empty());
  if (request.read_only && !verb.empty() && !ns.empty()) return detail::status_forbidden(verb, ns, name, request.user);
  if (!verb.empty() && !ns.empty()) {
    const auto now = std::chrono::steady_clock::now();
    if (now < writes_held_until_) return writes_held(writes_held_until_ - now);
  }

  if (name.empty()) return handle_collection(request, ns);

  if (method == "GET") {
    const auto r = table_->get(ns, name);
    return r.outcome == detail::TableOutcome::ok ? json_ok(200, r.object) : not_found(name);
  }
  if (method == "DELETE") {
    const auto r = table_->remove(ns, name);
    switch (r.outcome) {
      case detail::TableOutcome::ok: return detail::status_success(name);
      case detail::TableOutcome::not_found: return not_found(name);
      case detail::TableOutcome::storage_failed: return storage_failure(r, name);
      case detail::TableOutcome::created:
      case detail::TableOutcome::conflict:
      case detail::TableOutcome::uid_mismatch:
      case detail::TableOutcome::version_required:
      case detail::TableOutcome::already_exists: break;
    }
    return status_failure(500, "InternalError", "unexpected store outcome", name);
  }
  if (method == "PUT") {
    auto valid = validate_body(request, ns, name, options_.max_lease_duration);
    if (auto* error = std::get_if<ServerResponse>(&valid)) return std::move(*error);
    auto& body = std::get<ValidBody>(valid);
    const auto r = table_->put(ns, name, std::move(body.object), body.spec, body.resource_version, body.uid);
    switch (r.outcome) {
      case detail::TableOutcome::ok: return json_ok(200, r.object);
      case detail::TableOutcome::created: return json_ok(201, r.object);
      case detail::TableOutcome::version_required:
        // kube-apiserver's words: the missing version reads as 0.
        return detail::status_invalid(name, "metadata.resourceVersion", "0x0", "must be specified for an update");
      case detail::TableOutcome::conflict:
        return status_failure(409, "Conflict",
                              "Operation cannot be fulfilled on " + quoted(name) +
                                  ": the object has been modified; please apply your changes to the latest "
                                  "version and try again",
                              name);
      case detail::TableOutcome::uid_mismatch:
        return status_failure(409, "Conflict", "Operation cannot be fulfilled on " + quoted(name) + ": " + r.message,
                              name);
      case detail::TableOutcome::storage_failed: return storage_failure(r, name);
      case detail::TableOutcome::not_found:
      case detail::TableOutcome::already_exists: break;
    }
    return status_failure(500, "InternalError", "unexpected store outcome", name);
  }
  return status_failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

std::optional<Lease> LeaseStore::get(const std::string& ns, const std::string& name) const {
  auto object = table_->find(ns, name);
  if (!object) return std::nullopt;
  return lease_from_json(*object);
}

std::optional<boost::json::object> LeaseStore::get_json(const std::string& ns, const std::string& name) const {
  return table_->find(ns, name);
}

std::vector<HolderChange> LeaseStore::holder_history(const std::string& ns, const std::string& name) const {
  return table_->history(ns, name);
}

std::uint64_t LeaseStore::holder_changes(const std::string& ns, const std::string& name) const {
  return table_->history(ns, name).size();
}

std::uint64_t LeaseStore::writes(const std::string& ns, const std::string& name) const {
  return table_->writes(ns, name);
}

std::uint64_t LeaseStore::revision() const { return table_->revision(); }

std::size_t LeaseStore::watchers() const { return hub_->watchers(); }

const std::string& LeaseStore::corrupt_file_moved_to() const { return table_->moved_aside(); }

std::shared_ptr<LeaseStore> install_lease_api(server::Server& server, LeaseStoreOptions options) {
  auto store = std::make_shared<LeaseStore>(std::move(options));
  install_lease_api(server, store);
  return store;
}

void install_lease_api(server::Server& server, std::shared_ptr<LeaseStore> store) {
  detail::install_discovery(server);
  server.route(std::string(kAllNamespaces),
               [store](const server::ServerRequest& request) { return store->handle(request); });
  server.route(std::string(lease_api_prefix) + "*",
               [store = std::move(store)](const server::ServerRequest& request) { return store->handle(request); });
}

}  // namespace rebound::lease
