// Router: see router.hpp.
#include "router.hpp"

#include <exception>

namespace rebound::server::detail {

Router::Router() : table_(std::make_shared<const Table>()) {}

void Router::add(std::string pattern, Handler handler) {
  Route route;
  route.prefix = !pattern.empty() && pattern.back() == '*';
  if (route.prefix) pattern.pop_back();
  route.path = std::move(pattern);
  route.handler = std::move(handler);

  std::lock_guard lock(mutex_);
  auto next = std::make_shared<Table>(*table_);
  next->push_back(std::move(route));
  table_ = std::move(next);
}

ServerResponse Router::dispatch(const ServerRequest& request) const {
  std::shared_ptr<const Table> table;
  {
    std::lock_guard lock(mutex_);
    table = table_;
  }
  for (auto it = table->rbegin(); it != table->rend(); ++it) {
    const bool match = it->prefix ? request.path.starts_with(it->path) : request.path == it->path;
    if (!match) continue;
    try {
      return it->handler(request);
    } catch (const std::exception& e) {
      return ServerResponse{500, {{"content-type", "text/plain"}}, std::string("handler failed: ") + e.what() + "\n"};
    } catch (...) {
      return ServerResponse{500, {{"content-type", "text/plain"}}, "handler failed\n"};
    }
  }
  return ServerResponse{404, {{"content-type", "text/plain"}}, "no route for " + request.path + "\n"};
}

}  // namespace rebound::server::detail
