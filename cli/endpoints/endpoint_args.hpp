// The URL arguments of `rebound watch` and `rebound bench` read as one
// service's endpoints, and the hook that lets an EndpointGroup see its
// Client's events. One URL is the single-endpoint form, used as before
// (no group); several form a group:
//
//     rebound watch http://10.0.0.1:2379/health                    one endpoint
//     rebound watch http://10.0.0.1:2379,http://10.0.0.2:2379 /health
//     rebound watch http://10.0.0.1:2379 http://10.0.0.2:2379 /health
//     rebound watch http://10.0.0.1:2379/health,http://10.0.0.2:2379/health
//
// A last argument starting with '/' is the path each request asks for;
// without it every URL must carry the same path (and query), which is then
// split off its base.
#pragma once

#include <rebound/endpoint_group.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rebound::cli {

struct EndpointArgs {
  /// One URL (or a path, for --kubeconfig): the single-endpoint form.
  std::string single;
  /// Several: the base URLs of the endpoints, and the path to ask each for.
  std::vector<std::string> endpoints;
  std::string path;
  bool several() const { return endpoints.size() > 1; }
};

/// Throws CLI::ValidationError when there is no URL, or several URLs with
/// different paths and no separate PATH.
EndpointArgs parse_endpoint_args(const std::vector<std::string>& args);

/// Client events for a group that is made after its Client: install hook()
/// in Options::on_event, attach() the group once it exists and detach()
/// before it is destroyed (events of the Client's I/O threads may still
/// come). Thread-safe.
class GroupObserver {
 public:
  /// Chains `previous` (may be empty) before the group's observe().
  EventHook hook(EventHook previous = {});
  void attach(EndpointGroup* group);
  void detach() { attach(nullptr); }

 private:
  struct Slot {
    std::mutex mutex;
    EndpointGroup* group = nullptr;
  };
  std::shared_ptr<Slot> slot_ = std::make_shared<Slot>();
};

}  // namespace rebound::cli
