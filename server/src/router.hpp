// Maps a request path to a handler: exact paths, and prefixes for patterns
// ending in '*'. The newest matching route wins, so user routes override the
// built-ins registered first. Routes may be added from any thread while the
// server runs: the table is copy-on-write and a request works on a snapshot.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rebound/server/server.hpp"

namespace rebound::server::detail {

class Router {
 public:
  Router();
  void add(std::string pattern, Handler handler);
  /// Runs the matching handler. 404 when nothing matches, 500 (with the
  /// exception's message) when the handler throws.
  ServerResponse dispatch(const ServerRequest& request) const;

 private:
  struct Route {
    std::string path;  ///< without the trailing '*' for prefixes
    bool prefix = false;
    Handler handler;
  };
  using Table = std::vector<Route>;

  mutable std::mutex mutex_;  // guards the pointer only, never held while a handler runs
  std::shared_ptr<const Table> table_;
};

}  // namespace rebound::server::detail
